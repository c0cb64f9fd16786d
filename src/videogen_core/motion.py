"""The clip-action grammar and the movement-limit rule.

A clip action is free text such as ``"Slow zoom-out and pan right, misty
forest"``. It is parsed into :class:`Movement` s (zoom in/out, pan
left/right/up/down, tilt up/down, static) with a speed word
(slow/gentle/normal/fast/quick); words that name no movement are kept as
descriptive prompt text for generative renderers.

:func:`validate_clip_action` is the seed's rule: keep at most the movements
that ``movement_limits`` allows for the clip's duration, in written order, and
return the normalised text.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

import attrs

__all__ = [
    "DEFAULT_MOVEMENT_LIMITS",
    "MOVEMENTS",
    "SPEEDS",
    "SPEED_FACTORS",
    "ClipAction",
    "Movement",
    "limit_clip_action",
    "movement_limit",
    "parse_clip_action",
    "validate_clip_action",
]

DEFAULT_MOVEMENT_LIMITS: Mapping[str, int] = {"3": 1, "5": 2, "7": 3}

MOVEMENTS = (
    "zoom in", "zoom out",
    "pan left", "pan right", "pan up", "pan down",
    "tilt up", "tilt down",
    "static",
)
SPEEDS = ("slow", "gentle", "normal", "fast", "quick")
#: How much of the default movement amount each speed word asks for.
SPEED_FACTORS: Mapping[str, float] = {
    "slow": 0.5, "gentle": 0.75, "normal": 1.0, "fast": 1.5, "quick": 2.0,
}

_SPEED_WORDS = {
    "slow": "slow", "slowly": "slow", "gentle": "gentle", "gently": "gentle",
    "subtle": "gentle", "subtly": "gentle", "soft": "gentle", "softly": "gentle",
    "normal": "normal", "steady": "normal", "steadily": "normal",
    "fast": "fast", "quick": "quick", "quickly": "quick", "rapid": "fast", "rapidly": "fast",
}
_CANONICAL = {"push": "zoom", "dolly": "zoom", "pull": "zoom", "truck": "pan"}
# verb -> (default direction, allowed directions, canonical verb)
_VERBS: dict[str, tuple[str, dict[str, str]]] = {
    "zoom": ("in", {"in": "in", "out": "out", "into": "in", "back": "out"}),
    "push": ("in", {"in": "in"}),
    "dolly": ("in", {"in": "in", "out": "out", "back": "out"}),
    "pull": ("out", {"out": "out", "back": "out"}),
    "pan": ("right", {"left": "left", "right": "right", "up": "up", "down": "down"}),
    "truck": ("right", {"left": "left", "right": "right"}),
    "tilt": ("up", {"up": "up", "down": "down"}),
}
_FORMS = {
    "zoom": ("zooms", "zooming"), "pan": ("pans", "panning"), "tilt": ("tilts", "tilting"),
    "push": ("pushing",), "pull": ("pulling",),
}
for _verb, _forms in _FORMS.items():
    for _form in _forms:
        _VERBS[_form] = _VERBS[_verb]
        _CANONICAL[_form] = _CANONICAL.get(_verb, _verb)
_STATIC_WORDS = {"static", "still", "locked", "hold", "fixed"}
_SPLIT = re.compile(r"\s*[,;+&]\s*")
_JOINERS = {"and", "then", "while", "also", "plus"}
_TOKEN = re.compile(r"[a-z0-9']+")


@attrs.frozen
class Movement:
    """One camera movement, e.g. ``Movement("zoom in", "slow")``."""

    name: str
    speed: str = "normal"

    @property
    def factor(self) -> float:
        """Multiplier on the renderer's default movement amount."""
        return SPEED_FACTORS[self.speed]

    def __str__(self) -> str:
        return self.name if self.speed == "normal" else f"{self.speed} {self.name}"


@attrs.frozen
class ClipAction:
    """A parsed clip action: movements in written order plus free description."""

    movements: tuple[Movement, ...] = ()
    description: str = ""
    dropped: tuple[Movement, ...] = ()

    @property
    def text(self) -> str:
        """Normalised text: movements, then the description, comma-separated."""
        parts = [str(m) for m in self.movements]
        if self.description:
            parts.append(self.description)
        return ", ".join(parts)


def _is_movement_start(tokens: list[str], i: int) -> bool:
    while i < len(tokens) and tokens[i] in _SPEED_WORDS:
        i += 1
    return i < len(tokens) and (tokens[i] in _VERBS or tokens[i] in _STATIC_WORDS)


def _parse_clause(tokens: list[str]) -> tuple[list[Movement], list[str]]:
    movements: list[Movement] = []
    rest: list[str] = []
    pending: list[str] = []  # speed words waiting for a movement, as written
    after_movement = False
    i = 0
    while i < len(tokens):
        word = tokens[i]
        if word in _VERBS or word in _STATIC_WORDS:
            speed = _SPEED_WORDS[pending[-1]] if pending else "normal"
            rest.extend(pending[:-1])
            pending = []
            if word in _STATIC_WORDS:
                movements.append(Movement("static", speed))
            else:
                default, directions = _VERBS[word]
                direction = default
                if i + 1 < len(tokens) and tokens[i + 1] in directions:
                    direction = directions[tokens[i + 1]]
                    i += 1
                movements.append(Movement(f"{_CANONICAL.get(word, word)} {direction}", speed))
            after_movement = True
            i += 1
            continue
        if word in _SPEED_WORDS:
            if after_movement and not _is_movement_start(tokens, i + 1) and (
                movements[-1].speed == "normal"
            ):
                # trailing adverb: "zoom in slowly"
                movements[-1] = Movement(movements[-1].name, _SPEED_WORDS[word])
            else:
                pending.append(word)
            after_movement = False
            i += 1
            continue
        if word in _JOINERS and (after_movement or _is_movement_start(tokens, i + 1)):
            i += 1
            continue
        rest.extend(pending)
        pending = []
        rest.append(word)
        after_movement = False
        i += 1
    rest.extend(pending)
    return movements, rest


_DIRECTION_WORDS = {"in", "out", "left", "right", "up", "down", "back", "into"}


def parse_clip_action(clip_action: str) -> ClipAction:
    """Parse free text into movements (in written order) and a description.

    Tolerant of case, hyphens, underscores, ``and``/``then``/commas and extra
    spaces. Never raises for any string.
    """
    text = clip_action.lower().replace("-", " ").replace("_", " ")
    movements: list[Movement] = []
    descriptions: list[str] = []
    for clause in _SPLIT.split(text):
        tokens = _TOKEN.findall(clause)
        if not tokens:
            continue
        found, rest = _parse_clause(tokens)
        movements.extend(found)
        if rest:
            descriptions.append(" ".join(rest))
    return ClipAction(tuple(movements), ", ".join(descriptions))


def movement_limit(duration: float, limits: Mapping[str, int] = DEFAULT_MOVEMENT_LIMITS) -> int:
    """Movements allowed for a clip of ``duration`` seconds: the value of the
    smallest key ≥ duration; above the largest key, the largest key's value."""
    ordered = sorted((float(k), v) for k, v in limits.items())
    for key, limit in ordered:
        if duration <= key:
            return limit
    return ordered[-1][1]


def limit_clip_action(
    clip_action: str, duration: float, limits: Mapping[str, int] = DEFAULT_MOVEMENT_LIMITS
) -> ClipAction:
    """Parse ``clip_action`` and keep only the movements the limit allows;
    the cut ones are in ``dropped`` so the caller can warn."""
    parsed = parse_clip_action(clip_action)
    allowed = movement_limit(duration, limits)
    return attrs.evolve(
        parsed,
        movements=parsed.movements[:allowed],
        dropped=parsed.movements[allowed:],
    )


def validate_clip_action(
    clip_action: str, duration: float, limits: Mapping[str, int] = DEFAULT_MOVEMENT_LIMITS
) -> str:
    """The seed's rule: the normalised clip action with at most the allowed
    movements for ``duration``, in written order, description kept."""
    return limit_clip_action(clip_action, duration, limits).text

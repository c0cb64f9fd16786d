"""Matching scenes to images, and the natural sort order of file names."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from .errors import MissingImage

__all__ = [
    "IMAGE_EXTENSIONS",
    "explain_match",
    "is_image_name",
    "match_images",
    "natural_key",
    "natural_sorted",
]

IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".webp", ".bmp", ".tif", ".tiff", ".gif")
_DIGITS = re.compile(r"(\d+)")
_TRAILING_NUMBER = re.compile(r"(\d+)$")


def is_image_name(name: str) -> bool:
    """Whether ``name`` has an image extension (case-insensitive), not hidden."""
    base = name.rsplit("/", 1)[-1]
    return not base.startswith(".") and base.lower().endswith(IMAGE_EXTENSIONS)


def natural_key(name: str) -> tuple[tuple[int, int | str], ...]:
    """Sort key with numbers compared as numbers: ``img2 < img10``."""
    parts = _DIGITS.split(name.lower())
    return tuple((0, int(p)) if p.isdigit() else (1, p) for p in parts if p != "")


def natural_sorted(names: Iterable[str]) -> list[str]:
    """``names`` in natural order."""
    return sorted(names, key=natural_key)


def _stem(name: str) -> str:
    base = name.rsplit("/", 1)[-1]
    return base.rsplit(".", 1)[0] if "." in base else base


def match_images(
    scene_numbers: Sequence[int], names: Sequence[str], folder_id: str = ""
) -> dict[int, str]:
    """Image of every scene: the one whose file stem ends in the scene number
    (``scene_3.png``, ``003.jpg``); where no name matches, the N-th image in
    natural order — unless another scene's number claims that image, then the
    first image no scene has taken. Raises MissingImage naming the scene and
    listing the folder."""
    ordered = natural_sorted(names)
    by_number: dict[int, str] = {}
    for name in ordered:
        found = _TRAILING_NUMBER.search(_stem(name))
        if found:
            by_number.setdefault(int(found.group(1)), name)
    listing = [n.rsplit("/", 1)[-1] for n in ordered]
    claimed = {by_number[n] for n in scene_numbers if n in by_number}
    unclaimed = [n for n in ordered if n not in claimed]
    result: dict[int, str] = {}
    for position, number in enumerate(scene_numbers):
        if number in by_number:
            result[number] = by_number[number]
            continue
        # the N-th image in natural order, unless another scene's name claims it;
        # then the first image no scene has taken yet
        nth = ordered[number - 1] if 1 <= number <= len(ordered) else None
        if nth is None and position < len(ordered):
            nth = ordered[position]
        taken = set(result.values())
        if nth is not None and nth not in claimed and nth not in taken:
            result[number] = nth
            continue
        spare = [n for n in unclaimed if n not in taken]
        if not spare:
            raise MissingImage(number, folder_id, listing)
        result[number] = spare[0]
    return result


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def explain_match(
    scene_numbers: Sequence[int], names: Sequence[str], mapping: dict[int, str]
) -> dict[int, str]:
    """For every scene whose image was *not* found by its number (``mapping`` as
    :func:`match_images` made it): how it got its image, in words — "the 7th
    image in natural order" or "the first image no other scene took"."""
    ordered = natural_sorted(names)
    position = {name: i + 1 for i, name in enumerate(ordered)}
    notes: dict[int, str] = {}
    for index, number in enumerate(scene_numbers):
        image = mapping.get(number)
        if image is None:
            continue
        found = _TRAILING_NUMBER.search(_stem(image))
        if found and int(found.group(1)) == number:
            continue
        place = position.get(image, 0)
        if place == number:
            notes[number] = f"the {_ordinal(place)} image in natural order"
        elif place == index + 1:
            notes[number] = (f"the {_ordinal(place)} image in natural order, as the "
                             f"{_ordinal(place)} scene")
        else:
            notes[number] = (f"the first image no other scene took, "
                             f"{_ordinal(place)} in natural order")
    return notes

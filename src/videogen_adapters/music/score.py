"""Composition: a mood profile plus a seed → a list of note events.

A :class:`Style` says how a mood sounds (tempo, mode, chord progressions,
which instruments play which patterns, reverb). :func:`compose_score` walks
bar by bar until the duration is covered: chords from the progression, a pad
voicing near the previous one, an arpeggio or comping pattern, a bass line,
drums where the mood wants rhythm, and for some moods a melody built from a
two-bar motif that follows the chords. Intro bars are sparse and every
fourth phrase of a long bed is a lighter breakdown, so a bed breathes.
"""

from __future__ import annotations

import math

import attrs
import numpy as np

__all__ = ["MODES", "STYLES", "Event", "Style", "compose_score"]

MODES = {
    "ionian": (0, 2, 4, 5, 7, 9, 11),
    "aeolian": (0, 2, 3, 5, 7, 8, 10),
    "dorian": (0, 2, 3, 5, 7, 9, 10),
    "phrygian": (0, 1, 3, 5, 7, 8, 10),
    "mixolydian": (0, 2, 4, 5, 7, 9, 10),
}

# 16 steps per bar; "x" = hit, "o" = accent/open, "." = rest
DRUMS = {
    "pop": {"kick": "x.......x.x.....", "snare": "....x.......x...",
            "hat": "x.x.x.x.x.x.x.x."},
    "four": {"kick": "x...x...x...x...", "clap": "....x.......x...",
             "hat": "..o...o...o...o.", "shaker": "x.x.x.x.x.x.x.x."},
    "epic": {"tom": "x..x..x.x.....x.", "kick": "x.......x.......",
             "snare": "............x..."},
    "tense": {"kick": "x...x...x...x...", "hat": "xxxxxxxxxxxxxxxx"},
    "dark": {"kick": "x.........x.....", "tom": "........x......."},
    "playful": {"kick": "x.....x...x.....", "clap": "....x.......x...",
                "shaker": "xxxxxxxxxxxxxxxx"},
}


@attrs.frozen
class Style:
    """How one mood sounds."""

    bpm: float
    mode: str
    root: int  # pitch class of the key (0 = C)
    progressions: tuple[tuple[int, ...], ...]  # scale degrees, one chord per bar group
    bars_per_chord: int = 1
    sevenths: bool = False
    pad_level: float = 0.4
    pad_cutoff: float = 1800.0
    pad_attack: float = 0.6
    voicing_low: int = 55  # lowest note of the pad voicing window
    arp: str = "quarters"
    arp_instrument: str = "piano"
    arp_level: float = 0.3
    arp_octave: int = 0
    bass: str = "half"
    bass_level: float = 0.45
    drums: str | None = None
    drum_level: float = 0.5
    melody: str | None = None  # instrument of the melody, None for none
    melody_level: float = 0.3
    melody_density: float = 0.5
    rt60: float = 2.0
    wet: float = 0.3
    level: float = 1.0


STYLES: dict[str, Style] = {
    "epic": Style(88, "aeolian", 2, ((0, 5, 2, 6), (0, 5, 3, 4)), pad_level=0.5,
                  pad_cutoff=2600, pad_attack=0.4, arp="ostinato", arp_instrument="pluck",
                  arp_level=0.3, arp_octave=-1, bass="half", drums="epic", drum_level=0.6,
                  melody="brass", melody_level=0.28, melody_density=0.3, rt60=2.4, wet=0.35),
    "calm": Style(72, "ionian", 5, ((0, 3, 5, 4), (0, 5, 3, 4)), bars_per_chord=2,
                  pad_level=0.45, pad_cutoff=1200, pad_attack=1.2, arp="quarters",
                  arp_level=0.3, bass="whole", bass_level=0.35, melody="piano",
                  melody_level=0.22, melody_density=0.25, rt60=2.8, wet=0.4),
    "happy": Style(116, "ionian", 7, ((0, 4, 5, 3), (0, 3, 4, 0)), pad_level=0.22,
                   pad_cutoff=2200, pad_attack=0.2, arp="stabs", arp_level=0.3,
                   bass="bounce", drums="pop", drum_level=0.45, melody="bell",
                   melody_level=0.25, melody_density=0.6, rt60=1.4, wet=0.2),
    "sad": Style(64, "aeolian", 9, ((0, 5, 3, 4), (0, 3, 5, 6)), pad_level=0.4,
                 pad_cutoff=1400, pad_attack=0.9, arp="eighths", arp_level=0.28,
                 bass="whole", bass_level=0.38, melody="piano", melody_level=0.24,
                 melody_density=0.35, rt60=2.6, wet=0.4),
    "tense": Style(100, "phrygian", 4, ((0, 1, 0, 6), (0, 1, 5, 1)), pad_level=0.35,
                   pad_cutoff=900, pad_attack=1.0, voicing_low=52, arp="ostinato",
                   arp_instrument="pluck", arp_level=0.28, arp_octave=-1, bass="pulse",
                   drums="tense", drum_level=0.35, rt60=1.8, wet=0.3, level=1.15),
    "mysterious": Style(76, "dorian", 2, ((0, 3, 0, 6), (0, 6, 5, 3)), bars_per_chord=2,
                        pad_level=0.45, pad_cutoff=1500, pad_attack=1.5, arp="sparkle",
                        arp_instrument="bell", arp_level=0.22, arp_octave=1, bass="whole",
                        bass_level=0.35, rt60=3.5, wet=0.5, level=1.5),
    "romantic": Style(70, "ionian", 3, ((0, 5, 3, 4), (0, 2, 3, 4)), sevenths=True,
                      pad_level=0.35, pad_cutoff=1900, pad_attack=0.8, arp="broken",
                      arp_level=0.3, bass="half", bass_level=0.38, melody="piano",
                      melody_level=0.25, melody_density=0.4, rt60=2.4, wet=0.35),
    "uplifting": Style(122, "ionian", 0, ((3, 0, 4, 5), (5, 3, 0, 4)), pad_level=0.35,
                       pad_cutoff=2600, pad_attack=0.3, arp="eighths", arp_instrument="pluck",
                       arp_level=0.28, arp_octave=1, bass="eighths", bass_level=0.4,
                       drums="four", drum_level=0.45, melody="bell", melody_level=0.22,
                       melody_density=0.45, rt60=2.0, wet=0.3),
    "dark": Style(60, "aeolian", 0, ((0, 5, 0, 4), (0, 1, 0, 5)), bars_per_chord=2,
                  pad_level=0.5, pad_cutoff=700, pad_attack=1.5, voicing_low=48, arp="low",
                  arp_level=0.3, arp_octave=-1, bass="drone", bass_level=0.45, drums="dark",
                  drum_level=0.5, rt60=3.0, wet=0.4, level=1.15),
    "playful": Style(128, "mixolydian", 5, ((0, 5, 1, 4), (0, 3, 4, 3)), pad_level=0.15,
                     pad_cutoff=2000, pad_attack=0.1, arp="stabs", arp_instrument="pluck",
                     arp_level=0.32, bass="bounce", bass_level=0.42, drums="playful",
                     drum_level=0.4, melody="bell", melody_level=0.25, melody_density=0.7,
                     rt60=1.2, wet=0.2, level=1.15),
}


@attrs.frozen
class Event:
    """One sound: ``instrument`` playing MIDI ``note`` (0 for drums) at ``time``
    seconds for ``hold`` seconds, with gain, pan (-1..1) and reverb send."""

    time: float
    instrument: str
    note: int
    hold: float
    gain: float
    pan: float = 0.0
    send: float = 0.3


def _chord(style: Style, degree: int, key_root: int) -> list[int]:
    """Pitch classes (as semitones above C, may exceed 11) of the chord on ``degree``."""
    scale = MODES[style.mode]
    size = 4 if style.sevenths else 3
    return [key_root + scale[(degree + 2 * i) % 7] + 12 * ((degree + 2 * i) // 7)
            for i in range(size)]


def _voice(pitches: list[int], low: int) -> list[int]:
    """Place each pitch class in the octave window [low, low + 12)."""
    return sorted(low + (p - low) % 12 for p in pitches)


def _hits(pattern: str) -> list[tuple[int, bool]]:
    return [(i, c == "o") for i, c in enumerate(pattern) if c in "xo"]


def compose_score(style: Style, duration: float, seed: int) -> tuple[list[Event], float]:
    """Events covering ``duration`` seconds (and the bar length) for ``style`` and ``seed``."""
    rng = np.random.default_rng(seed)
    key_root = style.root + int(rng.integers(-2, 3))
    progression = style.progressions[int(rng.integers(len(style.progressions)))]
    bar = 240.0 / style.bpm
    step = bar / 16
    bars = max(1, math.ceil(duration / bar + 0.01))
    phrase = len(progression) * style.bars_per_chord
    events: list[Event] = []
    motif = _motif(rng, style)
    for b in range(bars):
        t0 = b * bar
        degree = progression[(b // style.bars_per_chord) % len(progression)]
        chord = _chord(style, degree, key_root)
        phrase_index, in_phrase = divmod(b, phrase)
        intro = b < min(2, bars - 1)
        breakdown = phrase_index % 4 == 3 and bars > 4 * phrase
        energy = (0.75 if intro else 1.0) * (0.8 if breakdown else 1.0)
        swell = 0.9 + 0.1 * math.sin(math.pi * (in_phrase + 0.5) / phrase)
        g = energy * swell
        if b % style.bars_per_chord == 0:
            hold = bar * style.bars_per_chord
            for note in _voice(chord, style.voicing_low):
                events.append(Event(t0, "pad", note, hold, style.pad_level * g / len(chord),
                                    pan=0.0, send=0.5))
        events += _arp(style, chord, t0, step, rng, g * (0.8 if breakdown else 1.0))
        events += _bass(style, chord, t0, step, g)
        if style.drums and not intro and not breakdown:
            events += _drums(style, t0, step, rng, g, key_root, fill=in_phrase == phrase - 1)
        if style.melody and not intro and not breakdown:
            events += _melody(style, chord, key_root, motif, in_phrase, t0, step, rng, g)
    return events, bar


def _arp(style: Style, chord: list[int], t0: float, step: float, rng: np.random.Generator,
         g: float) -> list[Event]:
    base = 12 * style.arp_octave
    tones = [n + base for n in _voice(chord, 60)]
    tones.append(tones[0] + 12)
    lvl, inst = style.arp_level * g, style.arp_instrument
    out: list[Event] = []

    def add(s: int, note: int, hold_steps: float, gain: float, pan: float) -> None:
        jitter = float(rng.normal(0, 0.004)) if s else 0.0
        vel = gain * float(rng.uniform(0.85, 1.05))
        out.append(Event(max(0.0, t0 + s * step + jitter), inst, note, hold_steps * step, vel,
                         pan, send=0.35))

    if style.arp == "quarters":
        for i, s in enumerate((0, 4, 8, 12)):
            add(s, tones[(0, 1, 2, 1)[i]], 4, lvl, (-0.3, 0.1, 0.3, -0.1)[i])
    elif style.arp == "eighths":
        order = (0, 1, 2, 3, 2, 1, 2, 1)
        for i in range(8):
            add(2 * i, tones[order[i]], 2, lvl * (1.0 if i % 2 == 0 else 0.8), 0.35 * (-1) ** i)
    elif style.arp == "broken":
        order = (0, 2, 1, 2, 3, 2, 1, 2)
        for i in range(8):
            add(2 * i, tones[order[i] % len(tones)], 3, lvl * (1.0 if i % 4 == 0 else 0.75),
                0.3 * (-1) ** i)
    elif style.arp == "ostinato":
        root, fifth = tones[0] - 12, tones[2] - 12 if len(tones) > 2 else tones[0] - 5
        for s in range(16):
            note = (root, root, fifth, root)[s % 4] + (12 if s in (6, 14) else 0)
            add(s, note, 0.9, lvl * (1.0 if s % 4 == 0 else 0.7), -0.25 if s % 2 else 0.25)
    elif style.arp == "stabs":
        for s in (2, 6, 10, 14):
            for k, note in enumerate(tones[:3]):
                add(s, note, 1.2, lvl * 0.6, (-0.4, 0.0, 0.4)[k])
    elif style.arp == "sparkle":
        for s in sorted(rng.choice(16, size=int(rng.integers(2, 5)), replace=False)):
            add(int(s), int(rng.choice(tones)) + 12, 3, lvl * float(rng.uniform(0.6, 1.0)),
                float(rng.uniform(-0.6, 0.6)))
    elif style.arp == "low":
        add(0, tones[0] - 12, 8, lvl, -0.2)
        add(8, tones[1] - 12 if rng.random() < 0.5 else tones[2] - 12, 8, lvl * 0.7, 0.2)
    return out


def _bass(style: Style, chord: list[int], t0: float, step: float, g: float) -> list[Event]:
    root = 36 + (chord[0] - 36) % 12
    fifth = root + 7
    lvl = style.bass_level * g
    patterns: dict[str, list[tuple[int, int, float]]] = {
        "whole": [(0, root, 16)],
        "drone": [(0, root, 16)],
        "half": [(0, root, 7.5), (8, fifth if fifth < 50 else root, 7.5)],
        "bounce": [(0, root, 3), (6, root + 12, 1.5), (8, fifth, 3), (12, root, 2),
                   (14, fifth, 1.5)],
        "eighths": [(s, root, 1.6) for s in range(0, 16, 2)],
        "pulse": [(s, root, 0.8) for s in range(16)],
    }
    return [Event(t0 + s * step, "bass", n, h * step,
                  lvl * (1.0 if s % 8 == 0 else 0.8), 0.0, send=0.05)
            for s, n, h in patterns[style.bass]]


def _drums(style: Style, t0: float, step: float, rng: np.random.Generator, g: float,
           key_root: int, fill: bool) -> list[Event]:
    out: list[Event] = []
    kit = dict(DRUMS[style.drums or "pop"])
    if fill and "snare" in kit:
        kit["snare"] = kit["snare"][:12] + "xxxx"
    pans = {"hat": 0.3, "shaker": -0.3, "clap": 0.1, "tom": -0.1}
    sends = {"snare": 0.3, "clap": 0.3, "tom": 0.35, "kick": 0.05}
    levels = {"kick": 1.0, "snare": 0.6, "clap": 0.55, "hat": 0.35, "shaker": 0.4, "tom": 0.8}
    for name, pattern in kit.items():
        for s, accent in _hits(pattern):
            vel = levels[name] * style.drum_level * g * float(rng.uniform(0.85, 1.0))
            if name in ("hat", "shaker") and s % 4:
                vel *= 0.65
            inst = "hat_open" if name == "hat" and accent else name
            # kick and toms are tuned to the key's root (E1..D#2, 41–78 Hz)
            note = 28 + (key_root - 4) % 12 if name in ("kick", "tom") else 0
            out.append(Event(t0 + s * step, inst, note, step, vel * (1.2 if accent else 1.0),
                             pans.get(name, 0.0), sends.get(name, 0.15)))
    return out


def _motif(rng: np.random.Generator, style: Style) -> list[tuple[int, int, int]]:
    """A two-bar motif: (step 0..31, scale-step offset, length in steps)."""
    slots = [0, 4, 6, 8, 12, 16, 20, 22, 24, 28]
    keep = [s for s in slots if s in (0, 16) or rng.random() < style.melody_density]
    moves = np.cumsum(rng.choice([-2, -1, -1, 0, 1, 1, 2], size=len(keep)))
    out = []
    for i, s in enumerate(keep):
        end = keep[i + 1] if i + 1 < len(keep) else 32
        out.append((s, int(moves[i]), max(2, end - s)))
    return out


def _melody(style: Style, chord: list[int], key_root: int, motif: list[tuple[int, int, int]],
            in_phrase: int, t0: float, step: float, rng: np.random.Generator,
            g: float) -> list[Event]:
    scale = MODES[style.mode]
    half = in_phrase % 2  # which bar of the two-bar motif
    anchor = _voice(chord, 67)[0]  # a chord tone to start from
    degrees = [48 + key_root + scale[i % 7] + 12 * (i // 7) for i in range(0, 35)]
    pitches = [p for p in degrees if 62 <= p <= 86]
    start = min(range(len(pitches)), key=lambda i: abs(pitches[i] - anchor))
    shift = 1 if in_phrase >= 2 else 0  # the answer sits a step higher
    out = []
    for s, offset, length in motif:
        if s // 16 != half:
            continue
        idx = min(len(pitches) - 1, max(0, start + offset + shift))
        note = pitches[idx]
        if s % 8 == 0:  # strong beats land on a chord tone
            note = min(_voice(chord, note - 6), key=lambda n: abs(n - note))
        out.append(Event(t0 + (s % 16) * step, style.melody or "piano", int(note),
                         length * step * 0.95, style.melody_level * g, 0.1, send=0.4))
    return out

"""The demo job: sample pictures made by the project itself, and a sample script.

The pictures are painted procedurally with numpy (fractal ridges, water,
foliage, stars), so they carry real texture for the encoder and need no
licence beyond the project's own. Deterministic: the same pictures every time.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageFilter

__all__ = ["DEMO_SEQUENCE", "make_demo_images", "write_demo_folder"]

DEMO_SEQUENCE: dict[str, Any] = {
    "sequence_data": [
        {"scene_number": 1, "duration": 4.0, "clip_action": "slow zoom in",
         "music_mood": "calm",
         "narration": "At dawn, the mountains wake slowly under a golden sky."},
        {"scene_number": 2, "duration": 4.0, "clip_action": "pan right",
         "music_mood": "calm",
         "narration": "Below them, the lake holds the light like a mirror."},
        {"scene_number": 3, "duration": 4.5, "clip_action": "gentle zoom out, tilt up",
         "music_mood": "mysterious",
         "narration": "As evening falls, the forest grows quiet and deep."},
        {"scene_number": 4, "duration": 4.0, "clip_action": "slow pan left",
         "music_mood": "mysterious",
         "narration": "And then the stars come out, one by one."},
    ],
    "generation_params": {"transition_type": "crossfade", "seed": 42, "fps": 24},
}


def _fbm(rng: np.random.Generator, h: int, w: int, octaves: int = 6) -> np.ndarray:
    """Fractal (fBm) value noise in [0, 1], shape (h, w)."""
    out = np.zeros((h, w), np.float32)
    amp, total = 1.0, 0.0
    for o in range(octaves):
        cells = 2 ** (o + 2)
        grid = rng.random((cells + 1, cells + 1)).astype(np.float32)
        layer = Image.fromarray((grid * 255).astype(np.uint8)).resize((w, h), Image.BICUBIC)
        out += amp * (np.asarray(layer, np.float32) / 255.0)
        total += amp
        amp *= 0.55
    return out / total


def _ridge(rng: np.random.Generator, w: int, base: float, rough: float) -> np.ndarray:
    """A 1-D mountain ridge profile (fractal midpoint-like sum of sines)."""
    x = np.linspace(0, 1, w, dtype=np.float32)
    y = np.full(w, base, np.float32)
    for k in range(1, 9):
        y += rough / k**1.2 * np.sin(2 * np.pi * (k * 1.7 * x + rng.random()))
    return y


def _sky(h: int, w: int, top: tuple[int, ...], bottom: tuple[int, ...]) -> np.ndarray:
    t = np.linspace(0, 1, h, dtype=np.float32)[:, None, None]
    return (np.array(top, np.float32) * (1 - t) + np.array(bottom, np.float32) * t) * np.ones(
        (1, w, 1), np.float32)


def _layer(img: np.ndarray, ridge_px: np.ndarray, color: tuple[int, ...], tex: np.ndarray,
           strength: float = 40.0) -> None:
    h = img.shape[0]
    rows = np.arange(h, dtype=np.float32)[:, None]
    mask = rows >= ridge_px[None, :]
    shade = np.array(color, np.float32)[None, None, :] + (tex[..., None] - 0.5) * strength
    img[mask] = shade[mask]


def _dawn(rng: np.random.Generator, h: int, w: int) -> np.ndarray:
    img = _sky(h, w, (70, 90, 160), (250, 190, 120))
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    sun = np.exp(-(((xx - 0.62 * w) ** 2 + (yy - 0.42 * h) ** 2) / (2 * (0.05 * w) ** 2)))
    img += sun[..., None] * np.array([80, 60, 20], np.float32)
    clouds = _fbm(rng, h, w)
    img += ((clouds - 0.5) * 50)[..., None] * (1 - yy / h)[..., None]
    for base, rough, color in ((0.45, 0.10, (120, 100, 130)), (0.58, 0.08, (80, 70, 90)),
                               (0.72, 0.06, (45, 45, 55))):
        _layer(img, _ridge(rng, w, base, rough) * h, color, _fbm(rng, h, w), 50)
    return img


def _lake(rng: np.random.Generator, h: int, w: int) -> np.ndarray:
    img = _sky(h, w, (110, 160, 220), (220, 230, 240))
    _layer(img, _ridge(rng, w, 0.42, 0.07) * h, (70, 100, 80), _fbm(rng, h, w), 60)
    water_top = int(0.55 * h)
    ripples = _fbm(rng, h - water_top, w, 7)
    mirror = img[water_top - 1::-1][: h - water_top] * 0.75 + np.array([10, 30, 50], np.float32)
    stripes = np.sin(np.linspace(0, 90, h - water_top))[:, None] * 8
    img[water_top:] = mirror + ((ripples - 0.5) * 40 + stripes)[..., None]
    return img


def _forest(rng: np.random.Generator, h: int, w: int) -> np.ndarray:
    img = _sky(h, w, (40, 30, 80), (230, 120, 80))
    for depth, (base, color) in enumerate(((0.40, (60, 50, 70)), (0.52, (35, 45, 40)),
                                           (0.66, (20, 30, 22)))):
        ridge = _ridge(rng, w, base, 0.03) * h
        spacing = 18 - 4 * depth
        heights = (0.4 + rng.random(w // spacing + 2)) * (0.06 + 0.04 * depth) * h
        x = np.arange(w)
        centre = x // spacing
        offset = np.abs((x % spacing) - spacing / 2) / (spacing / 2)  # 0 at the trunk
        trees = heights[centre] * np.clip(1.0 - offset, 0, 1) ** 0.8
        _layer(img, ridge - trees, color, _fbm(rng, h, w), 45)
    return img


def _night(rng: np.random.Generator, h: int, w: int) -> np.ndarray:
    img = _sky(h, w, (5, 8, 25), (30, 40, 80))
    milky = _fbm(rng, h, w, 7)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    band = np.exp(-(((yy / h) - 0.8 * (xx / w) + 0.1) ** 2) / 0.01)
    img += (band * milky * 90)[..., None] * np.array([0.8, 0.8, 1.0], np.float32)
    stars = rng.random((h, w)) > 0.9985
    brightness = rng.random((h, w)) * 155 + 100
    img[stars] = brightness[stars][:, None]
    _layer(img, _ridge(rng, w, 0.78, 0.05) * h, (8, 10, 14), _fbm(rng, h, w), 12)
    return img


_PAINTERS = (_dawn, _lake, _forest, _night)


def make_demo_images(size: tuple[int, int] = (1600, 900), seed: int = 7) -> list[Image.Image]:
    """Paint the four demo pictures (RGB, ``size``)."""
    w, h = size
    images = []
    for i, paint in enumerate(_PAINTERS):
        rng = np.random.default_rng(seed + i)
        pixels = np.clip(paint(rng, h, w), 0, 255).astype(np.uint8)
        grain = rng.normal(0, 3, pixels.shape)
        pixels = np.clip(pixels + grain, 0, 255).astype(np.uint8)
        images.append(Image.fromarray(pixels).filter(ImageFilter.SMOOTH))
    return images


def write_demo_folder(folder: Path) -> Path:
    """Write the demo pictures (``scene_1.jpg``…) and ``sequence.json`` into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    for number, image in enumerate(make_demo_images(), 1):
        target = folder / f"scene_{number}.jpg"
        if not target.exists():
            image.save(target, quality=92)
    sequence = folder.parent / f"{folder.name}.sequence.json"
    sequence.write_text(json.dumps(DEMO_SEQUENCE, indent=2), encoding="utf-8")
    return sequence

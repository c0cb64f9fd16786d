"""The camera path: windows stay inside the image, movements go the right way."""

from __future__ import annotations

import pytest

from videogen_adapters.ffmpeg.camera import plan_camera


def _inside(action: str, seed: int = 0) -> None:
    path = plan_camera(action, seed)
    for k in range(101):
        left, top, w, h = path.window(k / 100)
        assert left >= -1e-9 and left + w <= 1 + 1e-9
        assert top >= -1e-9 and top + h <= 1 + 1e-9


@pytest.mark.parametrize("action", [
    "zoom in", "zoom out", "pan left", "pan right", "tilt up", "tilt down", "pan up",
    "pan down", "quick zoom in, quick pan right", "slow zoom out and pan left", "static", "",
    "quick pan left, quick tilt down, quick zoom out", "misty forest",
])
@pytest.mark.parametrize("seed", [0, 1, 99, 2**32 - 1])
def test_windows_stay_inside_the_image(action: str, seed: int) -> None:
    _inside(action, seed)


def test_zoom_in_and_out() -> None:
    zin = plan_camera("zoom in", 3)
    assert zin.window(1)[2] < zin.window(0)[2]
    zout = plan_camera("zoom out", 3)
    assert zout.window(1)[2] > zout.window(0)[2]


def test_pans_move_the_window() -> None:
    right = plan_camera("pan right", 1)
    assert right.window(1)[0] > right.window(0)[0]
    left = plan_camera("pan left", 1)
    assert left.window(1)[0] < left.window(0)[0]
    up = plan_camera("tilt up", 1)
    assert up.window(1)[1] < up.window(0)[1]
    down = plan_camera("pan down", 1)
    assert down.window(1)[1] > down.window(0)[1]


def test_speed_words_scale_the_amount() -> None:
    def travel(action: str) -> float:
        path = plan_camera(action, 1)
        return abs(path.window(1)[0] - path.window(0)[0])

    assert travel("slow pan right") < travel("pan right") < travel("quick pan right")
    zoom = {a: plan_camera(a, 1).window(1)[2] for a in ("slow zoom in", "zoom in", "fast zoom in")}
    assert zoom["slow zoom in"] > zoom["zoom in"] > zoom["fast zoom in"]


def test_motion_is_eased() -> None:
    path = plan_camera("pan right", 1)
    start = path.window(0.01)[0] - path.window(0)[0]
    middle = path.window(0.51)[0] - path.window(0.5)[0]
    assert 0 < start < middle / 50


def test_static_and_default() -> None:
    assert plan_camera("static", 5).static
    assert plan_camera("still, misty lake", 5).static
    default = plan_camera("a misty forest", 5)
    assert not default.static
    assert plan_camera("a misty forest", 5) == default  # deterministic


def test_seed_picks_the_zoom_centre_deterministically() -> None:
    assert plan_camera("zoom in", 1) == plan_camera("zoom in", 1)
    assert plan_camera("zoom in", 1).window(1) != plan_camera("zoom in", 2).window(1)

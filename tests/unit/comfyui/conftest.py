"""Shared fixtures of the ComfyUI unit tests: recorded files and node schemas."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

FIXTURES = Path(__file__).parents[2] / "fixtures" / "comfyui"


def recorded(name: str) -> dict[str, Any]:
    """One recorded HTTP exchange (``{"request", "response"}``)."""
    return json.loads((FIXTURES / f"{name}.json").read_text())


def recorded_ws(name: str) -> list[dict[str, Any]]:
    """The text messages of a recorded websocket session, in arrival order."""
    events = [json.loads(line) for line in (FIXTURES / f"ws_{name}.jsonl").read_text().splitlines()]
    return [e["message"] for e in events if e["dir"] == "recv" and e["kind"] == "text"]


@pytest.fixture(scope="session")
def object_info() -> dict[str, Any]:
    """Node schemas recorded from ComfyUI 0.3.64: the subset plus the loaders the
    LTX-Video and Wan templates need (extracted from the full /object_info)."""
    info = json.loads((FIXTURES / "object_info_subset.json").read_text())
    info.update(json.loads((FIXTURES / "object_info_extra.json").read_text()))
    return info

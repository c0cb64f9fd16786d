"""The README's configuration table names every setting (full name or ``_SUFFIX``)."""

from __future__ import annotations

from pathlib import Path

from videogen_adapters.config import ENV_PREFIX, Settings

README = Path(__file__).resolve().parents[2] / "README.md"


def test_every_setting_is_documented() -> None:
    text = README.read_text(encoding="utf-8")
    table = [line for line in text.splitlines() if line.startswith("| `VIDEOGEN_")]
    cells = " ".join(line.split("|")[1] for line in table)
    missing = [name for name, _ in Settings.names()
               if f"`{name}`" not in cells and f"`_{name[len(ENV_PREFIX):]}`" not in cells]
    assert missing == []

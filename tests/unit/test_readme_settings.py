"""The README's configuration table names every setting (full name or ``_SUFFIX``)
and gives each one its real default.

Table rows: ``| `VIDEOGEN_A`, `_B` | default A, default B | meaning |`` — one
default per name, in order, or a single default every name of the row shares.
``–`` means "empty / not set"; a setting whose default is empty (computed at run
time) may describe it in words instead (``bundled en_US joe``).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import attrs
import pytest

from videogen_adapters.config import ENV_PREFIX, Settings

README = Path(__file__).resolve().parents[2] / "README.md"


def _rows() -> list[tuple[list[str], list[str]]]:
    text = README.read_text(encoding="utf-8")
    rows = []
    for line in text.splitlines():
        if not line.startswith("| `VIDEOGEN_"):
            continue
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        names = re.findall(r"`(_?[A-Z0-9_]+)`", cells[0])
        full = [n if n.startswith(ENV_PREFIX) else ENV_PREFIX + n.lstrip("_") for n in names]
        rows.append((full, [d.strip() for d in cells[1].split(", ")]))
    return rows


def _documented() -> dict[str, str]:
    defaults: dict[str, str] = {}
    for names, cells in _rows():
        assert len(cells) in (1, len(names)), f"{names}: {len(cells)} defaults for " \
                                              f"{len(names)} names"
        for i, name in enumerate(names):
            defaults[name] = cells[0] if len(cells) == 1 else cells[i]
    return defaults


def test_every_setting_is_documented() -> None:
    documented = _documented()
    missing = [name for name, _ in Settings.names() if name not in documented]
    assert missing == []


def _same(cell: str, default: Any) -> bool:
    text = cell.strip("`").replace("−", "-")
    if isinstance(default, bool):
        return text.lower() == str(default).lower()
    if isinstance(default, int | float):
        try:
            return float(text) == float(default)
        except ValueError:
            return False
    if isinstance(default, Path):
        return Path(text) == default
    if default == "":
        # "–", or words saying what is used when it is not set
        return text == "–" or (" " in text and not cell.startswith("`"))
    return text == str(default)


@pytest.mark.parametrize("field", [f.name for f in attrs.fields(Settings)])
def test_the_documented_default_is_the_real_one(field: str) -> None:
    name = ENV_PREFIX + field.upper()
    cell = _documented()[name]
    default = attrs.fields_dict(Settings)[field].default
    assert _same(cell, default), f"README says {name} defaults to {cell!r}, Settings: {default!r}"

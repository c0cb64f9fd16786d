"""The package imports lazily and builds nothing at import time."""

from __future__ import annotations

import subprocess
import sys

import pytest


def test_import_is_light():
    code = ("import sys, videogen_adapters.comfyui as c; "
            "print(sorted(m for m in ('av', 'PIL', 'websockets', 'httpx') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_lazy_names_resolve():
    import videogen_adapters.comfyui as package

    for name in package.__all__:
        assert getattr(package, name) is not None
    with pytest.raises(AttributeError):
        package.NoSuchThing  # noqa: B018

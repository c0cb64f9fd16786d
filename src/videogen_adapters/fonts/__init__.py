"""Fonts for burnt-in captions, shipped by registry packages (no system fonts needed).

The Noto families come from two OFL-1.1 wheels: ``manimgx-fonts`` (Noto Sans with
Latin, Cyrillic and Greek, Noto Sans Arabic/Hebrew and the other scripts Latin
faces lack, Noto Emoji in outline form, Noto Sans Symbols) and
``manimgx-fonts-cjk`` (Noto Sans CJK for Chinese, Japanese and Korean).

libass finds fonts through fontconfig; :func:`fontconfig_file` writes a
``fonts.conf`` that lists only these folders (with its own cache folder), and
:func:`ffmpeg_env` points ffmpeg at it (``FONTCONFIG_FILE``). Glyphs the main
face lacks (CJK, Arabic, emoji...) are then found by fontconfig's fallback
among the bundled faces, so nothing renders as a tofu box and nothing depends
on what the machine has installed.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import threading
from pathlib import Path
from xml.sax.saxutils import escape

__all__ = ["CAPTION_FONT", "FONT_PACKAGES", "ffmpeg_env", "font_dirs", "fontconfig_file"]

#: The family captions are set in; the other bundled faces are its fallbacks.
CAPTION_FONT = "Noto Sans"
#: Python packages whose folders hold the bundled fonts.
FONT_PACKAGES = ("manimgx_fonts", "manimgx_fonts_cjk")

_LOCK = threading.Lock()
_WRITTEN: dict[str, Path] = {}


def font_dirs() -> list[Path]:
    """Folders of the installed font packages (those that are installed)."""
    import importlib.util

    out = []
    for name in FONT_PACKAGES:
        spec = importlib.util.find_spec(name)
        if spec is not None and spec.submodule_search_locations:
            folder = Path(next(iter(spec.submodule_search_locations)))
            if any(folder.glob("*.tt[fc]")) or any(folder.glob("*.otf*")):
                out.append(folder)
    return out


def _config_text(dirs: list[Path], cache: Path) -> str:
    lines = ['<?xml version="1.0"?>', '<!DOCTYPE fontconfig SYSTEM "fonts.dtd">', "<fontconfig>"]
    lines += [f"  <dir>{escape(str(d))}</dir>" for d in dirs]
    lines.append(f"  <cachedir>{escape(str(cache))}</cachedir>")
    # any family asked for (sans-serif, Arial...) resolves to the bundled Noto Sans first
    lines += ["  <alias binding=\"strong\">", "    <family>sans-serif</family>",
              f"    <prefer><family>{CAPTION_FONT}</family><family>Noto Sans CJK SC</family>"
              "<family>Noto Sans Arabic</family><family>Noto Sans Hebrew</family>"
              "<family>Noto Emoji</family><family>Noto Sans Symbols</family></prefer>",
              "  </alias>", "</fontconfig>", ""]
    return "\n".join(lines)


def fontconfig_file(root: Path | None = None) -> Path | None:
    """A ``fonts.conf`` naming only the bundled font folders (written once per
    process and folder set, under ``root`` or the temporary folder); None when no
    font package is installed."""
    dirs = font_dirs()
    if not dirs:
        return None
    base = Path(root) if root is not None else Path(tempfile.gettempdir()) / "videogen-fonts"
    key = hashlib.sha256("\n".join(map(str, [base, *dirs])).encode()).hexdigest()[:16]
    with _LOCK:
        known = _WRITTEN.get(key)
        if known is not None and known.is_file():
            return known
        folder = base / key
        (folder / "cache").mkdir(parents=True, exist_ok=True)
        path = folder / "fonts.conf"
        tmp = folder / f".fonts.conf.{os.getpid()}.tmp"
        tmp.write_text(_config_text(dirs, folder / "cache"), encoding="utf-8")
        tmp.replace(path)
        _WRITTEN[key] = path
        return path


def ffmpeg_env(root: Path | None = None) -> dict[str, str] | None:
    """The environment for an ffmpeg that renders captions with the bundled fonts
    (this process's environment plus ``FONTCONFIG_FILE``); None without fonts."""
    path = fontconfig_file(root)
    if path is None:
        return None
    return {**os.environ, "FONTCONFIG_FILE": str(path)}

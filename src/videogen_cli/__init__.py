"""videogen_cli — the ``videogen`` command (render, demo, doctor, serve, worker)."""

from .main import build_parser, main

__all__ = ["build_parser", "main"]

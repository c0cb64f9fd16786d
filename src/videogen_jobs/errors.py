"""Errors of the job lifecycle (the HTTP layer maps their codes to statuses)."""

from __future__ import annotations

from videogen_core import VideogenError

__all__ = ["Conflict"]


class Conflict(VideogenError):
    """The request contradicts the resource's state (cancelling a finished job...)."""

    code = "conflict"

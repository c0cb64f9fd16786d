"""The broker URL (``VIDEOGEN_BROKER_URL``): kombu cannot take Redis transport
options in a URL, so ours travel in its query and are split off here — for the
Celery app (:mod:`.executors.celery`) and for anything else that connects to the
broker's server with a plain Redis client (:mod:`.chunkboard.redis`)."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from videogen_core import InvalidRequest

__all__ = ["split_broker_url"]

#: Redis transport options accepted in the broker URL's query, with their types.
_URL_TRANSPORT_OPTIONS: dict[str, type] = {
    "visibility_timeout": float,
    "unacked_restore_interval": float,
    "unacked_restore_throttle": int,
}
_DEFAULT_TRANSPORT_OPTIONS: dict[str, Any] = {
    "visibility_timeout": 3600.0,  # kombu's default; must exceed the longest job
    "unacked_restore_interval": 10.0,  # sweep for orphaned messages every 10 s …
    "unacked_restore_throttle": 1,  # … really every 10 s (kombu's default is 10 × 10 s)
}


def split_broker_url(url: str) -> tuple[str, dict[str, Any]]:
    """``(url without our query options, transport options)``: the defaults
    overridden by ``visibility_timeout``/``unacked_restore_*`` in the query."""
    parts = urlsplit(url)
    options = dict(_DEFAULT_TRANSPORT_OPTIONS)
    kept: list[tuple[str, str]] = []
    for key, value in parse_qsl(parts.query, keep_blank_values=True):
        kind = _URL_TRANSPORT_OPTIONS.get(key)
        if kind is None:
            kept.append((key, value))
            continue
        try:
            number = kind(value)
        except ValueError:
            raise InvalidRequest("VIDEOGEN_BROKER_URL", f"{key} must be a number", value
                                 ) from None
        if number <= 0:
            raise InvalidRequest("VIDEOGEN_BROKER_URL", f"{key} must be positive", value)
        options[key] = number
    return urlunsplit(parts._replace(query=urlencode(kept))), options

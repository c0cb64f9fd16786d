"""Error text fit to show a client — in an HTTP error body, in a job's JSON, in a
completion callback: absolute server paths become ``…/<name>``, echoed values
longer than :data:`ECHO_LIMIT` characters are cut.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

__all__ = ["ECHO_LIMIT", "scrub"]


#: Longest echoed string (an id, a field value) an error body carries whole.
ECHO_LIMIT = 200
#: An absolute POSIX path of two or more segments standing alone (not inside a URL).
#: The service's own routes are kept: they are not server paths.
_ABS_PATH = re.compile(r"(?<![\w.:/~\\-])/(?:[^\s'\"/,;()<>]+/)+[^\s'\"/,;()<>]*")
_ROUTES = ("/jobs/", "/media/", "/folders/", "/generateVideos/")


def _clip(text: str) -> str:
    if len(text) <= ECHO_LIMIT:
        return text
    return f"{text[:ECHO_LIMIT]}… ({len(text)} characters)"


def _hide_path(match: re.Match[str]) -> str:
    path = match.group(0)
    if path.startswith(_ROUTES):
        return path
    name = path.rstrip("/").rsplit("/", 1)[-1]
    return f"…/{name}" if name else "…"


def _scrub_value(value: Any, long_values: list[str]) -> Any:
    if isinstance(value, str):
        if len(value) > ECHO_LIMIT:
            long_values.append(value)
        return _ABS_PATH.sub(_hide_path, _clip(value))
    if isinstance(value, Mapping):
        return {str(k): _scrub_value(v, long_values) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_scrub_value(v, long_values) for v in value]
    return value


def scrub(message: str, details: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
    """The message and details fit to show a client: absolute server paths replaced
    by ``…/<last segment>``, strings over :data:`ECHO_LIMIT` characters cut (also
    where the message quotes them)."""
    long_values: list[str] = []
    clean = _scrub_value(dict(details), long_values)
    for value in sorted(long_values, key=len, reverse=True):
        message = message.replace(repr(value), repr(_clip(value))).replace(value, _clip(value))
    message = _ABS_PATH.sub(_hide_path, message)
    if len(message) > 4 * ECHO_LIMIT:
        message = f"{message[:4 * ECHO_LIMIT]}…"
    return message, clean

"""Request checks at the HTTP edge: identifiers, JSON bodies, callback URLs."""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import urlsplit

from flask import Request

from videogen_core import InvalidRequest, PathNotAllowed
from videogen_jobs import ssrf

from .errors import PayloadTooLarge, UnsupportedMediaType

__all__ = [
    "ID_PATTERN",
    "MAX_JSON_DEPTH",
    "check_callback_url",
    "check_id",
    "check_idempotency_key",
    "check_media_key",
    "json_depth_exceeds",
    "read_json",
]

#: Folder ids, job ids and file names: 1–128 of ``[A-Za-z0-9_.-]``, never ``.`` or ``..``
#: (nor any other name starting with a dot: those are the service's own, e.g. ``.cache``).
ID_PATTERN = re.compile(r"[A-Za-z0-9_.-]{1,128}")
_KEY_PATTERN = re.compile(r"[\x21-\x7e]{1,255}")
#: Deepest nesting of arrays/objects a JSON body may have (the request needs 3);
#: deeper bodies are refused before the parser recurses into them.
MAX_JSON_DEPTH = 32
_JSON_EVENTS = re.compile(rb'["\\\[\]{}]')


def check_id(value: str, field: str) -> str:
    """``value`` when it is a safe identifier, else InvalidRequest/PathNotAllowed on ``field``."""
    if value in {".", ".."}:
        raise PathNotAllowed(field, "must not be . or ..", value)
    if value.startswith("."):
        raise PathNotAllowed(field, "must not start with a dot", value)
    if not ID_PATTERN.fullmatch(value):
        raise InvalidRequest(field, "must be 1-128 characters of A-Z a-z 0-9 _ . -", value)
    return value


def check_media_key(key: str) -> str:
    """A storage key for ``/media``: ``<folder>/…/<file>``, ``/``-separated safe
    identifiers. Top-level names (the job database lives there) are refused."""
    parts = key.split("/")
    if len(parts) < 2:
        raise PathNotAllowed("path", "must be <folder>/<file>", key)
    if len(parts) > 16:
        raise PathNotAllowed("path", "has too many segments", key)
    for part in parts:
        check_id(part, "path")
    return key


def check_idempotency_key(value: str | None) -> str | None:
    """The ``Idempotency-Key`` header: 1–255 visible ASCII characters, or None."""
    if value is None:
        return None
    if not _KEY_PATTERN.fullmatch(value):
        raise InvalidRequest("Idempotency-Key", "must be 1-255 visible ASCII characters",
                             value[:300])
    return value


def check_callback_url(url: str | None, *, allow_private: bool = False,
                       resolve: ssrf.Resolver | None = None) -> str | None:
    """Only absolute ``http``/``https`` URLs with a host may receive callbacks — and,
    unless ``allow_private``, only a host that is (or resolves to) public addresses
    (:mod:`videogen_jobs.ssrf`; ``resolve`` replaces the DNS lookup in tests)."""
    if url is None:
        return None
    field = "generation_params.callback_url"
    parts = urlsplit(url)
    if parts.scheme not in {"http", "https"}:
        raise InvalidRequest(field, "must be an http or https URL", url)
    if not parts.hostname:
        raise InvalidRequest(field, "must name a host", url)
    if not allow_private:
        try:
            ssrf.check_host(parts.hostname, resolve)
        except ssrf.CallbackTargetError as exc:
            raise InvalidRequest(field, str(exc), url) from None
    return url


def json_depth_exceeds(raw: bytes, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether the arrays/objects of ``raw`` (JSON text) nest deeper than ``limit``.

    One linear pass over the quotes, backslashes and brackets (brackets inside
    strings do not count), stopping as soon as the limit is passed — so a body
    of 10,000 ``[`` costs 33 steps, and the parser never recurses into it."""
    depth = 0
    in_string = False
    escaped_at = -1
    for match in _JSON_EVENTS.finditer(raw):
        at = match.start()
        if at == escaped_at:
            continue
        char = raw[at]
        if char == 0x5C:  # backslash: the next byte is escaped
            escaped_at = at + 1
        elif char == 0x22:  # quote
            in_string = not in_string
        elif in_string:
            continue
        elif char in (0x5B, 0x7B):  # [ {
            depth += 1
            if depth > limit:
                return True
        else:
            depth -= 1
    return False


def read_json(request: Request, limit_bytes: int) -> Any:
    """The parsed JSON body; 415 unless it is JSON, 413 above ``limit_bytes``,
    400 (field ``""``) when it does not parse or nests deeper than
    :data:`MAX_JSON_DEPTH` levels."""
    mimetype = request.mimetype or ""
    if mimetype != "application/json" and not mimetype.endswith("+json"):
        raise UnsupportedMediaType(
            f"the body must be application/json (got {mimetype or 'no Content-Type'})",
            expected="application/json", got=mimetype)
    if request.content_length is not None and request.content_length > limit_bytes:
        raise PayloadTooLarge(f"the body exceeds {limit_bytes} bytes", limit_bytes=limit_bytes)
    raw = request.stream.read(limit_bytes + 1)
    if len(raw) > limit_bytes:
        raise PayloadTooLarge(f"the body exceeds {limit_bytes} bytes", limit_bytes=limit_bytes)
    too_deep = InvalidRequest("", f"the JSON body nests deeper than {MAX_JSON_DEPTH} levels",
                              max_depth=MAX_JSON_DEPTH)
    if json_depth_exceeds(raw):
        raise too_deep
    try:
        return json.loads(raw)
    except RecursionError:  # pragma: no cover - the scan above refuses such bodies first
        raise too_deep from None
    except (UnicodeDecodeError, ValueError) as exc:
        raise InvalidRequest("", f"the body is not valid JSON: {exc}") from None

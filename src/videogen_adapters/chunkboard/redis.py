"""The chunk board on a Redis-protocol server (Celery mode: the broker's own server).

Claims are ``SET <prefix>chunk:claim:<key> <owner> NX PX <lease>`` (atomic on the
server, so two workers never hold one chunk); renew and release compare the owner
in a Lua script (a lapsed claim taken over by another worker is left alone).
Records are JSON lines pushed on ``<prefix>chunk:log:<job>`` (a started line and,
when the chunk reached the cache, a finished one), kept :data:`RECORD_TTL` seconds.
Server errors become :class:`~videogen_core.ServiceUnavailable` ("chunk board").
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import attrs

from videogen_core import ServiceUnavailable

from ..broker_url import split_broker_url
from . import ChunkRecord

__all__ = ["RedisChunkBoard"]

#: Seconds the chunk records of a job are kept after its last encode.
RECORD_TTL = 7 * 24 * 3600

_RENEW = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
"""
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
"""


class RedisChunkBoard:
    """``ChunkBoard`` on Redis/Valkey (see the module docstring)."""

    def __init__(self, client: Any, prefix: str = "videogen:") -> None:
        self.client = client
        self.prefix = prefix
        self._renew = client.register_script(_RENEW)
        self._release = client.register_script(_RELEASE)

    @classmethod
    def from_url(cls, url: str, prefix: str = "videogen:") -> RedisChunkBoard:
        """A board on the server at ``url`` (``redis://host:port/db``; the broker's
        transport options in its query, see :func:`~videogen_adapters.broker_url.split_broker_url`,
        are not the client's and are left out)."""
        url, _ = split_broker_url(url)
        try:
            import redis
        except ImportError as exc:  # pragma: no cover - a packaging problem
            raise ServiceUnavailable("chunk board", "the redis package is not installed"
                                     ) from exc
        return cls(redis.Redis.from_url(url, socket_timeout=10, socket_connect_timeout=5),
                   prefix)

    def _claim_key(self, key: str) -> str:
        return f"{self.prefix}chunk:claim:{key}"

    def _log_key(self, job: str) -> str:
        return f"{self.prefix}chunk:log:{job}"

    @contextmanager
    def _errors(self) -> Iterator[None]:
        import redis

        try:
            yield
        except redis.RedisError as exc:
            raise ServiceUnavailable("chunk board", f"{type(exc).__name__}: {exc}") from exc

    def claim(self, key: str, owner: str, lease: float) -> bool:
        """Take ``key`` for ``owner`` for ``lease`` seconds unless someone holds it."""
        with self._errors():
            return bool(self.client.set(self._claim_key(key), owner, nx=True,
                                        px=max(1, int(lease * 1000))))

    def renew(self, key: str, owner: str, lease: float) -> bool:
        """Extend ``owner``'s claim; False when it is not ``owner``'s any more."""
        with self._errors():
            return bool(self._renew(keys=[self._claim_key(key)],
                                    args=[owner, max(1, int(lease * 1000))]))

    def release(self, key: str, owner: str) -> None:
        """Drop ``owner``'s claim on ``key`` (nothing when someone else holds it)."""
        with self._errors():
            self._release(keys=[self._claim_key(key)], args=[owner])

    def holder(self, key: str) -> str | None:
        """Who holds ``key`` now (None: nobody)."""
        with self._errors():
            value = self.client.get(self._claim_key(key))
        return None if value is None else value.decode()

    def _push(self, record: ChunkRecord) -> None:
        line = json.dumps(attrs.asdict(record))
        with self._errors():
            pipe = self.client.pipeline()
            pipe.rpush(self._log_key(record.job), line)
            pipe.expire(self._log_key(record.job), RECORD_TTL)
            pipe.execute()

    def started(self, record: ChunkRecord) -> None:
        """Record that an encode began."""
        self._push(record)

    def finished(self, record: ChunkRecord) -> None:
        """Record that the encode ``record.attempt`` ended with the chunk in the cache."""
        self._push(record)

    def records(self, job: str) -> list[ChunkRecord]:
        """Every encode recorded for ``job``, in start order (a finished line replaces
        its started line)."""
        with self._errors():
            lines = self.client.lrange(self._log_key(job), 0, -1)
        merged: dict[str, ChunkRecord] = {}
        for line in lines:
            record = ChunkRecord(**json.loads(line))
            previous = merged.get(record.attempt)
            if previous is None or record.finished is not None:
                merged[record.attempt] = record
        return sorted(merged.values(), key=lambda r: r.started)

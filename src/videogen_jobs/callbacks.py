"""Completion callbacks: POST a finished job to its ``callback_url``, signed.

The body is the job exactly as ``GET /jobs/<job_id>`` shows it (JSON). Headers:

- ``X-Videogen-Event: job.succeeded`` (or ``job.failed`` / ``job.cancelled``)
- ``X-Videogen-Job-Id: <job_id>``
- ``X-Videogen-Signature: sha256=<hex>`` — HMAC-SHA256 of the raw body bytes
  keyed with ``VIDEOGEN_CALLBACK_SECRET`` (left out when no secret is set).
  Receivers recompute it over the body they got and compare in constant time.

Network errors, 408, 429 and 5xx answers are retried with exponential backoff
(1, 2, 4, 8 s by default); other 4xx answers are final. Redirects are never
followed (a 3xx answer is final too).

Unless ``allow_private`` (``VIDEOGEN_CALLBACK_ALLOW_PRIVATE``), the URL's host
is resolved again just before each attempt (:mod:`videogen_jobs.ssrf`): an
address in a private, loopback, link-local… network — e.g. a name that
resolved publicly when the request was checked and to 127.0.0.1 now (DNS
rebinding) — means the callback is not sent, not retried, and counts as
failed (a warning is logged). A name that does not resolve is retried like a
network error. The POST then connects to the checked address itself
(:func:`videogen_jobs.ssrf.pinned`: the name stays in ``Host`` and in TLS), so
nothing is resolved again between the check and the connection.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import httpx

from . import ssrf

__all__ = ["SIGNATURE_HEADER", "CallbackSender", "sign"]

log = logging.getLogger("videogen.callbacks")

SIGNATURE_HEADER = "X-Videogen-Signature"


def sign(secret: str, body: bytes) -> str:
    """The signature header value for ``body``: ``sha256=<hex HMAC-SHA256>``."""
    digest = hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


class CallbackSender:
    """Sends callbacks on a small background pool, with retries and backoff.

    ``client`` is an :class:`httpx.Client` (tests pass one with a
    ``MockTransport``); ``sleep`` is injectable so tests do not wait.
    ``allow_private`` turns the address guard off; ``resolve`` replaces its DNS
    lookup (default :func:`videogen_jobs.ssrf.resolve_host`).
    """

    def __init__(self, secret: str = "", *, client: httpx.Client | None = None,
                 attempts: int = 5, backoff: float = 1.0, timeout: float = 10.0,
                 sleep: Callable[[float], None] = time.sleep, allow_private: bool = False,
                 resolve: ssrf.Resolver | None = None) -> None:
        self.secret = secret
        self.allow_private = allow_private
        self.resolve = resolve
        self.attempts = max(1, attempts)
        self.backoff = backoff
        self.sleep = sleep
        self._client = client
        self._timeout = timeout
        self._pool: ThreadPoolExecutor | None = None
        self._lock = threading.Lock()

    @property
    def client(self) -> httpx.Client:
        """The HTTP client (built on first use)."""
        if self._client is None:
            self._client = httpx.Client(timeout=self._timeout, follow_redirects=False)
        return self._client

    def submit(self, url: str, payload: Mapping[str, Any]) -> Future[bool]:
        """Send in the background; the future says whether it was delivered."""
        with self._lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(max_workers=2,
                                                thread_name_prefix="videogen-callback")
            return self._pool.submit(self.send, url, payload)

    def send(self, url: str, payload: Mapping[str, Any]) -> bool:
        """POST ``payload`` to ``url`` until it is accepted (2xx) or attempts run out."""
        body = json.dumps(payload, sort_keys=True, separators=(",", ":")).encode("utf-8")
        status = str(payload.get("status", "done"))
        headers = {"Content-Type": "application/json",
                   "X-Videogen-Event": f"job.{status}",
                   "X-Videogen-Job-Id": str(payload.get("job_id", "")),
                   "User-Agent": "videogen-callback/1"}
        if self.secret:
            headers[SIGNATURE_HEADER] = sign(self.secret, body)
        job_id = payload.get("job_id")
        for attempt in range(1, self.attempts + 1):
            try:
                target = url
                extra: dict[str, str] = {}
                extensions: dict[str, str] = {}
                if not self.allow_private:  # again now: the name may resolve elsewhere
                    checked = ssrf.check_url(url, self.resolve)
                    # ...and connect to the very address that was checked
                    target, extra, extensions = ssrf.pinned(url, checked[0])
                response = self.client.post(target, content=body,
                                            headers={**headers, **extra},
                                            extensions=extensions, follow_redirects=False)
            except ssrf.AddressRefused as exc:
                log.warning("job %s: callback to %s not sent: %s", job_id, url, exc)
                return False
            except ssrf.ResolutionFailed as exc:
                reason = str(exc)
            except httpx.HTTPError as exc:
                reason = f"{type(exc).__name__}: {exc}"
            else:
                if response.is_success:
                    log.info("job %s: callback delivered to %s (%d)", job_id, url,
                             response.status_code)
                    return True
                reason = f"HTTP {response.status_code}"
                if response.status_code < 500 and response.status_code not in (408, 429):
                    log.warning("job %s: callback to %s refused: %s", job_id, url, reason)
                    return False
            if attempt < self.attempts:
                delay = self.backoff * 2 ** (attempt - 1)
                log.info("job %s: callback attempt %d failed (%s); retrying in %.1f s",
                         job_id, attempt, reason, delay)
                self.sleep(delay)
        log.warning("job %s: callback to %s gave up after %d attempts (%s)", job_id, url,
                    self.attempts, reason)
        return False

    def close(self) -> None:
        """Stop the pool and close the client."""
        if self._pool is not None:
            self._pool.shutdown(wait=False)
        if self._client is not None:
            self._client.close()

"""``ComfyUIClient``: ComfyUI's HTTP + websocket API over an ``httpx.Client``.

Faithful to the protocol recorded from ComfyUI 0.3.64: ``POST /upload/image``
(multipart ``image``, ``type``, ``subfolder``, ``overwrite``), ``POST /prompt``
with our ``client_id`` and a client-chosen ``prompt_id``, progress on
``/ws?clientId=…`` (polling ``GET /history/<id>`` when the socket is refused
or drops), ``GET /view`` for outputs, ``POST /queue {"delete"}`` +
``POST /interrupt {"prompt_id"}`` to cancel, ``GET /system_stats`` and
``GET /object_info`` for health.

Timeouts, refused connections and 5xx answers are retried with exponential
backoff, then raised as ``ServiceUnavailable("comfyui", reason)``.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any, Protocol

import httpx

from videogen_core import Cancelled, CancelToken, RenderFailed, ServiceUnavailable

from .errors import execution_error, interrupted_error, validation_error
from .events import PromptWatch
from .outputs import OutputFile
from .schema import missing_classes

__all__ = ["ComfyUIClient", "PromptResult", "WebSocketLike", "default_ws_connect"]

log = logging.getLogger(__name__)
SERVICE = "comfyui"


class WebSocketLike(Protocol):
    """What the client needs of a websocket (``websockets.sync.client.ClientConnection`` fits)."""

    def recv(self, timeout: float | None = None) -> str | bytes: ...

    def send(self, message: str) -> None: ...

    def close(self) -> None: ...


WsConnect = Callable[[str], WebSocketLike]


def default_ws_connect(open_timeout: float = 5.0) -> WsConnect | None:
    """A connector using ``websockets``' sync client, or None when it is not installed."""
    try:
        from websockets.sync.client import connect
    except ImportError:  # pragma: no cover - the comfyui extra installs websockets
        return None

    def _connect(url: str) -> WebSocketLike:
        # legacy=True: a plain connection object, closed by us (websockets ≥ 16 semantics)
        return connect(url, open_timeout=open_timeout, max_size=None, proxy=None,
                       close_timeout=1.0, legacy=True)

    return _connect


class PromptResult:
    """A finished prompt: its id, outputs per node, and the nodes ComfyUI served from cache."""

    def __init__(self, prompt_id: str, outputs: Mapping[str, Any], cached: Iterable[str]) -> None:
        self.prompt_id = prompt_id
        self.outputs = dict(outputs)
        self.cached = tuple(cached)


class ComfyUIClient:
    """One ComfyUI server, seen through ``http`` (base_url = the server) and its websocket.

    ``ws_connect`` opens ``ws://…/ws?clientId=…`` (None: poll ``/history`` only).
    ``retries``/``backoff``: attempts after the first and the first delay (doubling).
    ``preview_metadata``: negotiate ``feature_flags`` so previews arrive as type-4
    binary frames (both framings are skipped; the option exists for servers that
    expect the handshake).
    """

    def __init__(
        self,
        http: httpx.Client,
        *,
        ws_connect: WsConnect | None = None,
        client_id: str | None = None,
        retries: int = 3,
        backoff: float = 0.5,
        poll_interval: float = 0.25,
        history_interval: float = 2.0,
        cancel_grace: float = 10.0,
        preview_metadata: bool = False,
    ) -> None:
        self.http = http
        self.ws_connect = ws_connect
        self.client_id = client_id or str(uuid.uuid4())
        self.retries = retries
        self.backoff = backoff
        self.poll_interval = poll_interval
        self.history_interval = history_interval
        self.cancel_grace = cancel_grace
        self.preview_metadata = preview_metadata

    # ------------------------------------------------------------ transport
    @property
    def base_url(self) -> str:
        """The server's URL as configured on the httpx client."""
        return str(self.http.base_url).rstrip("/")

    @property
    def ws_url(self) -> str:
        """``ws(s)://host:port/<path>/ws?clientId=<client_id>``."""
        return self.ws_url_for(self.client_id)

    def ws_url_for(self, client_id: str) -> str:
        """The websocket URL for a given ``clientId``."""
        base = self.base_url
        scheme = "wss" if base.startswith("https") else "ws"
        return f"{scheme}{base[base.index(':'):]}/ws?clientId={client_id}"

    def _send(self, method: str, path: str, *, retries: int | None = None,
              cancel: CancelToken | None = None,
              already_done: Callable[[], bool] | None = None, **kwargs: Any) -> httpx.Response:
        attempts = 1 + (self.retries if retries is None else retries)
        reason = ""
        error: httpx.HTTPError | None = None
        for attempt in range(attempts):
            if attempt and already_done is not None and already_done():
                return httpx.Response(200, json={}, request=httpx.Request(method, path))
            try:
                response = self.http.request(method, path, **kwargs)
            except httpx.TimeoutException as exc:
                reason, error = f"{method} {path} timed out", exc
            except httpx.TransportError as exc:
                reason, error = f"{method} {path}: cannot connect to {self.base_url} ({exc})", exc
            else:
                if response.status_code < 500:
                    return response
                reason, error = (f"{method} {path} answered HTTP {response.status_code}: "
                                 f"{response.text[:200].strip()}"), None
            if attempt + 1 < attempts:
                delay = self.backoff * 2**attempt
                log.warning("comfyui: %s; retrying in %.2f s", reason, delay)
                if cancel is not None and cancel.wait(delay):
                    raise Cancelled()
                if cancel is None:
                    time.sleep(delay)
        raise ServiceUnavailable(SERVICE, reason, url=self.base_url) from error

    def _json(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self._send(method, path, **kwargs)
        if response.status_code >= 400:
            raise RenderFailed("comfyui request", f"{method} {path} answered HTTP "
                               f"{response.status_code}: {response.text[:300]}",
                               status=response.status_code)
        return response.json() if response.content else None

    # --------------------------------------------------------------- health
    def system_stats(self) -> dict[str, Any]:
        """``GET /system_stats``: versions and devices; ServiceUnavailable when down."""
        return dict(self._json("GET", "/system_stats"))

    def object_info(self) -> dict[str, Any]:
        """``GET /object_info``: every node class and its input schema."""
        return dict(self._json("GET", "/object_info"))

    def check_nodes(self, class_types: Iterable[str], workflow: str = "workflow") -> None:
        """Raise RenderFailed naming every node class ``workflow`` needs that the server lacks."""
        missing = missing_classes(set(class_types), self.object_info())
        if missing:
            raise RenderFailed(
                "comfyui workflow check",
                f"the ComfyUI server at {self.base_url} lacks node classes needed by "
                f"{workflow!r}: {', '.join(missing)} (install the custom nodes that provide them)",
                missing=missing, workflow=workflow,
            )

    # -------------------------------------------------------------- uploads
    def upload_image(self, data: bytes, suffix: str = ".png", *, subfolder: str = "",
                     cancel: CancelToken | None = None) -> str:
        """Upload an input image under a content-hashed name; return the LoadImage value.

        Same bytes → same name, so re-uploads are harmless (``overwrite=true``);
        should ComfyUI still rename (``name (1).png``), its answer is what we use.
        """
        name = f"videogen_{hashlib.sha256(data).hexdigest()[:24]}{suffix}"
        form = {"type": "input", "overwrite": "true"}
        if subfolder:
            form["subfolder"] = subfolder
        response = self._send("POST", "/upload/image", cancel=cancel, data=form,
                              files={"image": (name, data, "image/png")})
        if response.status_code != 200:
            raise RenderFailed("comfyui upload", f"POST /upload/image answered HTTP "
                               f"{response.status_code}: {response.text[:200]}",
                               status=response.status_code)
        answer = response.json()
        folder = answer.get("subfolder") or ""
        return f"{folder}/{answer['name']}" if folder else str(answer["name"])

    def download(self, item: OutputFile, destination: Path) -> Path:
        """``GET /view`` one output file into ``destination`` (streamed)."""
        params = {"filename": item.filename, "subfolder": item.subfolder, "type": item.type}
        for attempt in range(1 + self.retries):
            try:
                with self.http.stream("GET", "/view", params=params) as response:
                    if response.status_code == 200:
                        with destination.open("wb") as fh:
                            for chunk in response.iter_bytes():
                                fh.write(chunk)
                        return destination
                    if response.status_code < 500:
                        raise RenderFailed("comfyui download", f"GET /view {item.filename!r} "
                                           f"answered HTTP {response.status_code}",
                                           filename=item.filename)
            except httpx.TransportError as exc:
                if attempt == self.retries:
                    raise ServiceUnavailable(SERVICE, f"GET /view failed: {exc}") from exc
            time.sleep(self.backoff * 2**attempt)
        raise ServiceUnavailable(SERVICE, f"GET /view {item.filename!r} kept failing")

    # -------------------------------------------------------------- prompts
    def queue_prompt(self, graph: Mapping[str, Any], prompt_id: str,
                     cancel: CancelToken | None = None, client_id: str | None = None) -> int:
        """``POST /prompt`` with a client_id and our ``prompt_id``; return the queue number.

        A retry after a timeout first checks whether the server already queued it.
        """
        body = {"prompt": graph, "client_id": client_id or self.client_id,
                "prompt_id": prompt_id}
        response = self._send("POST", "/prompt", json=body, cancel=cancel,
                              already_done=lambda: self.is_known(prompt_id))
        if response.status_code != 200:
            try:
                payload: Any = response.json()
            except ValueError:
                payload = response.text
            raise validation_error(payload, response.status_code)
        return int(response.json().get("number", -1))

    def history(self, prompt_id: str) -> dict[str, Any] | None:
        """The finished prompt's history entry, or None while it is queued or running."""
        data = self._json("GET", f"/history/{prompt_id}") or {}
        entry = data.get(prompt_id)
        return dict(entry) if entry else None

    def queue(self) -> dict[str, Any]:
        """``GET /queue``: ``queue_running`` and ``queue_pending`` entries."""
        return dict(self._json("GET", "/queue"))

    def is_known(self, prompt_id: str) -> bool:
        """True when the server has the prompt queued, running or finished."""
        try:
            q = self.queue()
            if any(len(e) > 1 and e[1] == prompt_id
                   for e in q.get("queue_running", []) + q.get("queue_pending", [])):
                return True
            return self.history(prompt_id) is not None
        except ServiceUnavailable:
            return False

    def delete_queued(self, prompt_ids: list[str]) -> None:
        """``POST /queue {"delete": [...]}``: remove these prompts if still waiting."""
        self._send("POST", "/queue", json={"delete": list(prompt_ids)}, retries=1)

    def cancel_prompt(self, prompt_id: str) -> None:
        """Remove the prompt from the queue and interrupt it if it runs (both idempotent)."""
        self._send("POST", "/queue", json={"delete": [prompt_id]}, retries=1)
        self._send("POST", "/interrupt", json={"prompt_id": prompt_id}, retries=1)

    def run(self, graph: Mapping[str, Any], *, progress: Callable[[float], None] | None = None,
            cancel: CancelToken | None = None, timeout: float = 600.0,
            prompt_id: str | None = None) -> PromptResult:
        """Queue ``graph`` (as ``prompt_id``, a new UUID by default), follow it to the
        end, return its outputs.

        RenderFailed for validation/execution errors, Cancelled when ``cancel``
        fires (the prompt is deleted/interrupted first), ServiceUnavailable when
        the server is down or the prompt exceeds ``timeout`` seconds.
        """
        if cancel is not None:
            cancel.raise_if_cancelled()
        prompt_id = prompt_id or str(uuid.uuid4())
        # one clientId per run: ComfyUI keeps one socket per clientId and drops the
        # older one when a second connects, so concurrent runs must not share it
        client_id = f"{self.client_id}-{prompt_id[:8]}"
        ws = self._open_ws(client_id)
        try:
            self.queue_prompt(graph, prompt_id, cancel=cancel, client_id=client_id)
            watch = PromptWatch(prompt_id, progress)
            state = {"finished": False}
            if cancel is not None:
                cancel.on_cancel(
                    lambda: None if state["finished"] else self._quiet_cancel(prompt_id))
            try:
                self._follow(watch, ws, cancel, time.monotonic() + timeout, timeout)
            except (Cancelled, ServiceUnavailable):
                raise  # already stopped, or the server is gone
            except BaseException:
                if watch.terminal is None:  # never leave a prompt running behind us
                    self._quiet_cancel(prompt_id)
                raise
            finally:
                state["finished"] = True
        finally:
            if ws is not None:
                _close(ws)
        return self._result(watch, cancel)

    # -------------------------------------------------------------- helpers
    def _open_ws(self, client_id: str) -> WebSocketLike | None:
        if self.ws_connect is None:
            return None
        try:
            ws = self.ws_connect(self.ws_url_for(client_id))
            if self.preview_metadata:
                ws.send(json.dumps({"type": "feature_flags",
                                    "data": {"supports_preview_metadata": True}}))
            return ws
        except Exception as exc:  # noqa: BLE001 - any failure: fall back to /history polling
            log.warning("comfyui: websocket unavailable (%s); polling /history", exc)
            return None

    def _quiet_cancel(self, prompt_id: str) -> None:
        try:
            self.cancel_prompt(prompt_id)
        except ServiceUnavailable as exc:
            log.warning("comfyui: could not cancel prompt %s: %s", prompt_id, exc)

    def _follow(self, watch: PromptWatch, ws: WebSocketLike | None, cancel: CancelToken | None,
                deadline: float, timeout: float) -> None:
        last_poll = time.monotonic()
        while not watch.done:
            if cancel is not None and cancel.cancelled:
                self._stop(watch.prompt_id, ws)
                raise Cancelled()
            now = time.monotonic()
            if now > deadline:
                self._quiet_cancel(watch.prompt_id)
                raise ServiceUnavailable(
                    SERVICE, f"prompt {watch.prompt_id} did not finish within {timeout:g} s")
            if ws is not None:
                try:
                    message = ws.recv(timeout=self.poll_interval)
                except TimeoutError:
                    message = None
                except Exception as exc:  # noqa: BLE001 - socket dropped: poll /history instead
                    log.warning("comfyui: websocket dropped (%s); polling /history", exc)
                    ws = None
                    continue
                if isinstance(message, str):
                    with contextlib.suppress(ValueError):  # not JSON: not ComfyUI's
                        watch.feed(json.loads(message))
                if watch.terminal is not None and not watch.idle and message is None:
                    watch.idle = True  # the closing ``executing null`` is late; stop waiting
                if watch.done or now - last_poll < self.history_interval:
                    continue
            elif cancel is not None:
                cancel.wait(self.poll_interval)
            else:
                time.sleep(self.poll_interval)
            last_poll = time.monotonic()
            entry = self.history(watch.prompt_id)
            if entry is not None:
                watch.feed_history(entry)

    def _stop(self, prompt_id: str, ws: WebSocketLike | None) -> None:
        """After a cancel: make sure the prompt is neither queued nor running any more."""
        self._quiet_cancel(prompt_id)
        deadline = time.monotonic() + self.cancel_grace
        while time.monotonic() < deadline:
            try:
                q = self.queue()
            except ServiceUnavailable:
                return
            entries = q.get("queue_running", []) + q.get("queue_pending", [])
            if not any(len(e) > 1 and e[1] == prompt_id for e in entries):
                return
            time.sleep(self.poll_interval)
            self._quiet_cancel(prompt_id)
        log.warning("comfyui: prompt %s still listed %.0f s after cancelling",
                    prompt_id, self.cancel_grace)

    def _result(self, watch: PromptWatch, cancel: CancelToken | None) -> PromptResult:
        if watch.terminal == "execution_error":
            raise execution_error(watch.terminal_data)
        if watch.terminal == "execution_interrupted":
            if cancel is not None and cancel.cancelled:
                raise Cancelled()
            raise interrupted_error(watch.terminal_data)
        if not watch.outputs:
            entry = self.history(watch.prompt_id)
            if entry is not None:
                watch.feed_history(entry)
        return PromptResult(watch.prompt_id, watch.outputs, watch.cached)


def _close(ws: WebSocketLike) -> None:
    # closing a broken socket must not mask the result
    with contextlib.suppress(Exception):
        ws.close()

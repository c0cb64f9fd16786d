"""A test ComfyUI server on 127.0.0.1 that speaks the protocol recorded from ComfyUI 0.3.64.

It runs an aiohttp app in a background thread (its own event loop) on a free
port and reproduces what ``tests/fixtures/comfyui/`` recorded from a real,
unmodified ComfyUI: the same routes (also under ``/api``), JSON shapes, error
bodies (400 ``error`` + ``node_errors``, the plain-text 500, empty 400/404),
upload collision renaming (``name (1).png``, identical bytes keep the name),
per-node caching, and websocket event sequences in the recorded order
(``status`` → ``execution_start`` → ``execution_cached`` → ``progress_state`` /
``executing`` … ``executed`` → ``execution_success|error|interrupted`` →
``status`` → ``executing null``), including the no-``client_id`` behaviour and
both binary preview framings (legacy type 1, type 4 after ``feature_flags``).

It executes the model-free nodes for real (LoadImage, ImageScale,
RepeatImageBatch, ImageFlip, ImageBatch, CreateVideo, SaveVideo via the
imageio-ffmpeg binary, SaveAnimatedWEBP/PNG, SaveImage, PreviewImage), so
outputs are real media. Graphs needing models fail validation exactly as on
the recorded model-free server (empty model-file combo lists).

Scenario switches (attributes, change them any time):

- ``node_delay`` s per executed node (slow run; lets ``/interrupt`` land)
- ``execution_time``: every prompt that executes takes at least this many
  seconds from ``execution_start`` to its end (a GPU-like fixed cost; the wait
  is interruptible)
- ``http_delay`` s late answers for the next ``http_delay_count`` HTTP requests (-1: all;
  the request is handled first, only the answer is late)
- ``fail_5xx``: the next N HTTP requests get the recorded 500
- ``ws_enabled``: False → ``/ws`` answers 404 (no websocket)
- ``drop_ws_after``: close the prompt's sockets right after sending this event type
- ``force_execution_error``: output nodes fail with the recorded libx264 error
- ``force_validation_error``: ``POST /prompt`` gets the recorded 400 body
- ``progress_steps``: ``progress`` messages (value/max, as a sampler sends)
  for RepeatImageBatch nodes, each with a binary preview frame

Observations: ``uploads``, ``prompts`` (POST bodies), ``interrupts``,
``deletes``, ``requests`` (method, path), ``max_queue_depth``, ``history``,
``executions`` (per queued prompt, ``time.monotonic()`` stamps: ``queued``,
``started``, ``ended``, and its ``status``), :meth:`busy_share`.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import io
import json
import socket
import struct
import subprocess
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from aiohttp import WSMsgType, web
from PIL import Image, ImageOps

from videogen_adapters.comfyui.schema import check_graph

__all__ = ["FIXTURES", "ComfyUITestServer", "comfyui_server", "recorded_messages"]

FIXTURES = Path(__file__).parent / "fixtures" / "comfyui"
HOST = "127.0.0.1"
SERVER_ERROR = "500 Internal Server Error\n\nServer got itself in trouble"
_MIME = {".mp4": "video/mp4", ".webm": "video/webm", ".webp": "image/webp", ".png": "image/png",
         ".gif": "image/gif", ".jpg": "image/jpeg"}


def recorded_messages(name: str) -> list[dict[str, Any]]:
    """The text messages a recorded ``ws_<name>.jsonl`` received, in order (notes dropped)."""
    lines = (FIXTURES / f"ws_{name}.jsonl").read_text().splitlines()
    events = [json.loads(line) for line in lines if line.strip()]
    return [e["message"] for e in events if e["dir"] == "recv" and e["kind"] == "text"]


def _recorded_response(name: str) -> dict[str, Any]:
    return json.loads((FIXTURES / f"{name}.json").read_text())["response"]


def _now_ms() -> int:
    return int(time.time() * 1000)


class _ExecError(Exception):
    def __init__(self, message: str, kind: str) -> None:
        super().__init__(message)
        self.message, self.kind = message, kind


class _Task:
    def __init__(self, number: int, prompt_id: str, graph: dict[str, Any],
                 extra: dict[str, Any], outputs: list[str], client_id: str | None) -> None:
        self.number, self.prompt_id, self.graph = number, prompt_id, graph
        self.extra, self.outputs, self.client_id = extra, outputs, client_id
        self.interrupted = False
        self.log: dict[str, Any] = {"prompt_id": prompt_id, "queued": time.monotonic(),
                                    "started": None, "ended": None, "status": "queued"}

    def row(self) -> list[Any]:
        return [self.number, self.prompt_id, self.graph, self.extra, self.outputs]


class ComfyUITestServer:
    """The server; use as a context manager or call :meth:`start` / :meth:`stop`."""

    def __init__(self) -> None:
        info = json.loads((FIXTURES / "object_info_subset.json").read_text())
        info.update(json.loads((FIXTURES / "object_info_extra.json").read_text()))
        self.object_info_base = info
        self.port = 0
        # scenario switches
        self.node_delay = 0.0
        self.execution_time = 0.0
        self.http_delay = 0.0
        self.http_delay_count = 0
        self.fail_5xx = 0
        self.ws_enabled = True
        self.drop_ws_after: str | None = None
        self.force_execution_error = False
        self.force_validation_error = False
        self.progress_steps = 3
        # observations
        self.uploads: list[dict[str, Any]] = []
        self.prompts: list[dict[str, Any]] = []
        self.interrupts: list[Any] = []
        self.deletes: list[Any] = []
        self.requests: list[tuple[str, str]] = []
        self.sent: dict[str, list[Any]] = {}  # client id -> messages sent (text parsed, bytes)
        self.max_queue_depth = 0
        self.history: dict[str, Any] = {}
        self.executions: list[dict[str, Any]] = []
        # state (event-loop thread only)
        example = (FIXTURES / "upload_input.png").read_bytes()
        self.inputs: dict[str, bytes] = {"example.png": example}
        self.outputs: dict[tuple[str, str], bytes] = {}
        self._number = 0
        self._pending: list[_Task] = []
        self._running: _Task | None = None
        # one socket per clientId, as ComfyUI: a new connection replaces the old one
        self._sockets: dict[str, list[tuple[web.WebSocketResponse, dict[str, Any]]]] = {}
        self._cache: dict[str, tuple[Any, dict[str, Any] | None]] = {}
        self._counters: dict[str, int] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._runner: web.AppRunner | None = None
        self._wake: asyncio.Event | None = None

    def reset_scenario(self) -> None:
        """Back to the default scenario: fast, websocket on, no injected failures."""
        self.node_delay = self.http_delay = self.execution_time = 0.0
        self.http_delay_count = self.fail_5xx = 0
        self.ws_enabled, self.drop_ws_after = True, None
        self.force_execution_error = self.force_validation_error = False
        self.progress_steps, self.max_queue_depth = 3, 0

    # ------------------------------------------------------------ lifecycle
    @property
    def url(self) -> str:
        """``http://127.0.0.1:PORT``."""
        return f"http://{HOST}:{self.port}"

    def start(self) -> ComfyUITestServer:
        """Start listening on a free port of 127.0.0.1."""
        ready = threading.Event()
        self._loop = asyncio.new_event_loop()

        def run() -> None:
            assert self._loop is not None
            asyncio.set_event_loop(self._loop)
            self._loop.run_until_complete(self._serve())
            ready.set()
            self._loop.run_forever()

        self._thread = threading.Thread(target=run, name="comfyui-test-server", daemon=True)
        self._thread.start()
        if not ready.wait(10):
            raise RuntimeError("test ComfyUI server did not start")
        return self

    def stop(self) -> None:
        """Close every socket and the listener; the port is then closed (server down)."""
        if self._loop is None:
            return
        future = asyncio.run_coroutine_threadsafe(self._shutdown(), self._loop)
        future.result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        assert self._thread is not None
        self._thread.join(10)
        self._loop = None

    def __enter__(self) -> ComfyUITestServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def call(self, fn: Any) -> Any:
        """Run ``fn()`` on the server's loop thread and return its result."""
        assert self._loop is not None
        done: asyncio.Future[Any] = asyncio.run_coroutine_threadsafe(_as_coro(fn), self._loop)
        return done.result(10)

    def busy_share(self) -> float:
        """The share of the time from the first prompt queued to the last one's end
        that the server spent executing prompts (0 when nothing ran)."""
        runs = [e for e in list(self.executions) if e["started"] and e["ended"]]
        if not runs:
            return 0.0
        span = max(e["ended"] for e in runs) - min(e["queued"] for e in runs)
        busy = sum(e["ended"] - e["started"] for e in runs)
        return busy / span if span > 0 else 1.0

    def queue_snapshot(self) -> dict[str, Any]:
        """What ``GET /queue`` would answer now."""
        return self.call(self._queue_json)

    async def _serve(self) -> None:
        app = web.Application(middlewares=[self._middleware], client_max_size=200 * 1024 * 1024)
        routes = [
            web.get("/ws", self.h_ws), web.get("/system_stats", self.h_system_stats),
            web.get("/features", self.h_features), web.get("/object_info", self.h_object_info),
            web.get("/object_info/{node}", self.h_object_info_node),
            web.post("/upload/image", self.h_upload), web.get("/view", self.h_view),
            web.post("/prompt", self.h_post_prompt), web.get("/prompt", self.h_get_prompt),
            web.get("/queue", self.h_get_queue), web.post("/queue", self.h_post_queue),
            web.post("/interrupt", self.h_interrupt), web.get("/history", self.h_history_all),
            web.get("/history/{prompt_id}", self.h_history),
            web.post("/history", self.h_post_history),
        ]
        for route in routes:
            app.router.add_route(route.method, route.path, route.handler)
            app.router.add_route(route.method, "/api" + route.path, route.handler)
        self._runner = web.AppRunner(app, handle_signals=False, shutdown_timeout=1.0)
        await self._runner.setup()
        sock = socket.socket()
        sock.bind((HOST, 0))
        self.port = sock.getsockname()[1]
        site = web.SockSite(self._runner, sock)
        await site.start()
        self._wake = asyncio.Event()
        self._worker = asyncio.ensure_future(self._work())

    async def _shutdown(self) -> None:
        self._worker.cancel()
        for sockets in list(self._sockets.values()):
            for ws, _ in list(sockets):
                with contextlib.suppress(Exception):
                    await ws.close()
        assert self._runner is not None
        await self._runner.cleanup()

    @web.middleware
    async def _middleware(self, request: web.Request, handler: Any) -> web.StreamResponse:
        self.requests.append((request.method, request.path))
        if request.path.endswith("/ws"):
            return await handler(request)
        if self.fail_5xx > 0:
            self.fail_5xx -= 1
            return web.Response(status=500, text=SERVER_ERROR)
        response = await handler(request)
        if self.http_delay and self.http_delay_count:
            # the request is handled, the answer comes late (a client may time out)
            self.http_delay_count -= 1
            await asyncio.sleep(self.http_delay)
        return response

    # ------------------------------------------------------------ websocket
    async def h_ws(self, request: web.Request) -> web.StreamResponse:
        if not self.ws_enabled:
            return web.Response(status=404, text="404: Not Found")
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        client_id = request.query.get("clientId") or uuid.uuid4().hex
        entry: tuple[web.WebSocketResponse, dict[str, Any]] = (ws, {})
        self._sockets[client_id] = [entry]  # reusing a clientId drops the older socket
        await self._send_one(ws, client_id, {"type": "status", "data": {
            "status": {"exec_info": {"queue_remaining": self._remaining()}}, "sid": client_id}})
        try:
            async for msg in ws:
                if msg.type != WSMsgType.TEXT:
                    continue
                with contextlib.suppress(ValueError):
                    data = json.loads(msg.data)
                    if data.get("type") == "feature_flags":
                        entry[1].update(data.get("data") or {})
                        await self._send_one(ws, client_id, {"type": "feature_flags", "data": {
                            "supports_preview_metadata": True, "max_upload_size": 104857600}})
        finally:  # as ComfyUI: closing any socket of a clientId forgets the clientId
            self._sockets.pop(client_id, None)
        return ws

    async def _send_one(self, ws: web.WebSocketResponse, client_id: str, message: Any) -> None:
        if ws.closed:
            return
        self.sent.setdefault(client_id, []).append(message)
        with contextlib.suppress(ConnectionError, RuntimeError):
            if isinstance(message, bytes):
                await ws.send_bytes(message)
            else:
                await ws.send_str(json.dumps(message))

    async def _emit(self, task: _Task | None, kind: str, data: dict[str, Any]) -> None:
        """Send an event as ComfyUI does: prompt events to the prompt's client only."""
        message = {"type": kind, "data": data}
        if kind == "status" or (kind == "progress_state" and (task is None or not task.client_id)):
            targets = [(cid, ws) for cid, socks in self._sockets.items() for ws, _ in socks]
        elif task is not None and task.client_id:
            targets = [(task.client_id, ws) for ws, _ in self._sockets.get(task.client_id, [])]
        else:
            targets = []
        for cid, ws in targets:
            await self._send_one(ws, cid, message)
        if task is not None and task.client_id and kind == self.drop_ws_after:
            for ws, _ in list(self._sockets.get(task.client_id, [])):
                await ws.close()

    async def _emit_preview(self, task: _Task, node_id: str, png: bytes) -> None:
        for ws, flags in list(self._sockets.get(task.client_id or "", [])):
            if flags.get("supports_preview_metadata"):
                meta = json.dumps({"node_id": node_id, "prompt_id": task.prompt_id,
                                   "display_node_id": node_id, "parent_node_id": None,
                                   "real_node_id": node_id, "image_type": "image/png"}).encode()
                frame = struct.pack(">II", 4, len(meta)) + meta + png
            else:
                frame = struct.pack(">II", 1, 2) + png
            await self._send_one(ws, task.client_id or "", frame)

    def _remaining(self) -> int:
        return len(self._pending) + (1 if self._running else 0)

    async def _status(self) -> None:
        await self._emit(None, "status", {"status": {"exec_info": {
            "queue_remaining": self._remaining()}}})

    # --------------------------------------------------------------- simple
    async def h_system_stats(self, request: web.Request) -> web.Response:
        return web.json_response(_recorded_response("system_stats")["json"])

    async def h_features(self, request: web.Request) -> web.Response:
        return web.json_response({"supports_preview_metadata": True,
                                  "max_upload_size": 104857600})

    def _object_info(self) -> dict[str, Any]:
        info = copy.deepcopy(self.object_info_base)
        top = sorted(name for name in self.inputs if "/" not in name)
        info["LoadImage"]["input"]["required"]["image"][0] = top
        return info

    async def h_object_info(self, request: web.Request) -> web.Response:
        return web.json_response(self._object_info())

    async def h_object_info_node(self, request: web.Request) -> web.Response:
        node = request.match_info["node"]
        info = self._object_info()
        return web.json_response({node: info[node]} if node in info else {})

    async def h_upload(self, request: web.Request) -> web.Response:
        form = await request.post()
        image = form.get("image")
        if image is None or not hasattr(image, "file"):
            return web.Response(status=400)
        data = image.file.read()
        subfolder = str(form.get("subfolder", "") or "")
        overwrite = str(form.get("overwrite", "")).lower() in ("true", "1")
        name = image.filename
        stem, dot, ext = name.rpartition(".")
        stem, ext = (stem, "." + ext) if dot else (name, "")
        key = f"{subfolder}/{name}" if subfolder else name
        i = 1
        while not overwrite and key in self.inputs and self.inputs[key] != data:
            name = f"{stem} ({i}){ext}"
            key = f"{subfolder}/{name}" if subfolder else name
            i += 1
        self.inputs[key] = data
        self.uploads.append({"filename": image.filename, "name": name, "subfolder": subfolder,
                             "overwrite": overwrite, "size": len(data)})
        return web.json_response({"name": name, "subfolder": subfolder, "type": "input"})

    async def h_view(self, request: web.Request) -> web.Response:
        q = request.query
        filename, subfolder, kind = q.get("filename", ""), q.get("subfolder", ""), q.get(
            "type", "output")
        if kind == "input":
            data = self.inputs.get(f"{subfolder}/{filename}" if subfolder else filename)
        else:
            data = self.outputs.get((subfolder, filename))
        if data is None:
            return web.Response(status=404)
        mime = _MIME.get(Path(filename).suffix.lower(), "application/octet-stream")
        return web.Response(body=data, content_type=mime,
                            headers={"Content-Disposition": f'filename="{filename}"'})

    # -------------------------------------------------------------- prompts
    async def h_post_prompt(self, request: web.Request) -> web.Response:
        try:
            body = json.loads(await request.text())
        except ValueError:
            return web.Response(status=500, text=SERVER_ERROR)
        self.prompts.append(body)
        self._number += 1
        number = self._number - 1
        if "prompt" not in body:
            return web.json_response(_recorded_response("prompt_error_no_prompt_key")["json"],
                                     status=400)
        if self.force_validation_error:
            return web.json_response(
                _recorded_response("prompt_error_missing_required_input")["json"], status=400)
        graph = body["prompt"]
        rejected = self._validate(graph)
        if rejected is not None:
            return web.json_response(rejected, status=400)
        prompt_id = body.get("prompt_id") or str(uuid.uuid4())
        extra = dict(body.get("extra_data") or {})
        client_id = body.get("client_id")
        if client_id:
            extra["client_id"] = client_id
        outputs = [nid for nid, n in graph.items()
                   if self.object_info_base[n["class_type"]].get("output_node")]
        task = _Task(number, prompt_id, graph, extra, outputs, client_id)
        self._pending.append(task)
        self.executions.append(task.log)
        self.max_queue_depth = max(self.max_queue_depth, self._remaining())
        assert self._wake is not None
        self._wake.set()
        await self._status()
        return web.json_response({"prompt_id": prompt_id, "number": number, "node_errors": {}})

    def _validate(self, graph: dict[str, Any]) -> dict[str, Any] | None:
        def top(kind: str, message: str, details: str = "") -> dict[str, Any]:
            return {"error": {"type": kind, "message": message, "details": details,
                              "extra_info": {}}, "node_errors": {}}
        for node_id, node in graph.items():
            if node.get("class_type") not in self.object_info_base:
                return top("invalid_prompt", f"Cannot execute because node "
                           f"{node.get('class_type')} does not exist.", f"Node ID '#{node_id}'")
        problems = [p for p in check_graph(graph, self._object_info(), skip_model_files=False)
                    if not (p.class_type == "LoadImage" and p.input_name == "image")]
        if any(p.type == "prompt_no_outputs" for p in problems):
            return top("prompt_no_outputs", "Prompt has no outputs")
        for node_id, node in graph.items():
            if node["class_type"] == "LoadImage" and node["inputs"].get("image") not in self.inputs:
                problems.append(_custom_image_problem(node_id, node["inputs"].get("image")))
        if not problems:
            return None
        outputs = [nid for nid, n in graph.items()
                   if self.object_info_base[n["class_type"]].get("output_node")]
        node_errors: dict[str, Any] = {}
        for p in problems:
            entry = node_errors.setdefault(p.node_id, {"errors": [], "dependent_outputs": outputs,
                                                       "class_type": p.class_type})
            entry["errors"].append({"type": p.type, "message": p.message, "details": p.details,
                                    "extra_info": {"input_name": p.input_name}})
        body = top("prompt_outputs_failed_validation", "Prompt outputs failed validation")
        body["node_errors"] = node_errors
        return body

    def _queue_json(self) -> dict[str, Any]:
        return {"queue_running": [self._running.row()] if self._running else [],
                "queue_pending": [t.row() for t in self._pending]}

    async def h_get_prompt(self, request: web.Request) -> web.Response:
        return web.json_response({"exec_info": {"queue_remaining": self._remaining()}})

    async def h_get_queue(self, request: web.Request) -> web.Response:
        return web.json_response(self._queue_json())

    async def h_post_queue(self, request: web.Request) -> web.Response:
        body = await request.json()
        if body.get("clear"):
            for task in self._pending:
                task.log["status"] = "deleted"
            self._pending.clear()
        for prompt_id in body.get("delete", []):
            self.deletes.append(prompt_id)
            for task in self._pending:
                if task.prompt_id == prompt_id:
                    task.log["status"] = "deleted"
            self._pending = [t for t in self._pending if t.prompt_id != prompt_id]
        await self._status()
        return web.Response(status=200)

    async def h_interrupt(self, request: web.Request) -> web.Response:
        body = await request.json() if request.can_read_body else {}
        prompt_id = (body or {}).get("prompt_id")
        self.interrupts.append(prompt_id)
        if self._running is not None and prompt_id in (None, self._running.prompt_id):
            self._running.interrupted = True
        return web.Response(status=200)

    async def h_history_all(self, request: web.Request) -> web.Response:
        items = list(self.history.items())
        if "max_items" in request.query:
            items = items[-int(request.query["max_items"]):]
        return web.json_response(dict(items))

    async def h_history(self, request: web.Request) -> web.Response:
        prompt_id = request.match_info["prompt_id"]
        entry = self.history.get(prompt_id)
        return web.json_response({prompt_id: entry} if entry else {})

    async def h_post_history(self, request: web.Request) -> web.Response:
        body = await request.json()
        if body.get("clear"):
            self.history.clear()
        for prompt_id in body.get("delete", []):
            self.history.pop(prompt_id, None)
        return web.Response(status=200)

    # ------------------------------------------------------------ execution
    async def _work(self) -> None:
        assert self._wake is not None
        while True:
            if not self._pending:
                self._wake.clear()
                await self._wake.wait()
                continue
            task = self._pending.pop(0)
            self._running = task
            try:
                await self._execute(task)
            finally:
                self._running = None
            await self._status()
            await self._emit(task, "executing", {"node": None, "prompt_id": task.prompt_id})

    async def _execute(self, task: _Task) -> None:
        pid = task.prompt_id
        messages: list[Any] = []

        async def event(kind: str, data: dict[str, Any], record: bool = False) -> None:
            if record:
                messages.append([kind, data])
            await self._emit(task, kind, data)

        await self._status()
        task.log["started"] = started = time.monotonic()
        await event("execution_start", {"prompt_id": pid, "timestamp": _now_ms()}, True)
        order = _topological(task.graph)
        signatures = {nid: _signature(task.graph, nid) for nid in order}
        cached = [nid for nid in order if signatures[nid] in self._cache]
        await event("execution_cached", {"nodes": cached, "prompt_id": pid,
                                         "timestamp": _now_ms()}, True)
        values: dict[str, Any] = {}
        ui: dict[str, dict[str, Any]] = {}
        states: dict[str, dict[str, Any]] = {}
        executed: list[str] = []
        status = "success"
        for nid in order:
            node = task.graph[nid]
            if nid in cached:
                values[nid], output = self._cache[signatures[nid]]
                if output is not None:
                    ui[nid] = output
                    await event("executed", {"node": nid, "display_node": nid, "output": output,
                                             "prompt_id": pid})
                    states[nid] = _state(pid, nid, "finished", value=1, maximum=1)
                    await event("progress_state", {"prompt_id": pid, "nodes": dict(states)})
                continue
            states[nid] = _state(pid, nid, "running")
            await event("progress_state", {"prompt_id": pid, "nodes": dict(states)})
            await event("executing", {"node": nid, "display_node": nid, "prompt_id": pid})
            if task.interrupted:
                await event("execution_interrupted", {
                    "prompt_id": pid, "node_id": nid, "node_type": node["class_type"],
                    "executed": executed, "timestamp": _now_ms()}, True)
                status = "error"
                break
            if self.node_delay:
                await self._sleep(task, self.node_delay)
            try:
                result, output = await self._run_node(task, nid, node, values)
            except _ExecError as exc:
                await event("execution_error", _error_data(task, nid, node, executed, exc), True)
                status = "error"
                break
            values[nid] = result
            executed.append(nid)
            self._cache[signatures[nid]] = (result, output)
            states[nid] = _state(pid, nid, "finished")
            if output is not None:
                ui[nid] = output
                await event("executed", {"node": nid, "display_node": nid, "output": output,
                                         "prompt_id": pid})
            await event("progress_state", {"prompt_id": pid, "nodes": dict(states)})
        if status == "success" and self.execution_time:
            await self._sleep(task, self.execution_time - (time.monotonic() - started))
            if task.interrupted:
                last = order[-1]
                await event("execution_interrupted", {
                    "prompt_id": pid, "node_id": last, "node_type": task.graph[last]["class_type"],
                    "executed": executed, "timestamp": _now_ms()}, True)
                status = "error"
        task.log["ended"] = time.monotonic()
        task.log["status"] = status
        if status == "success":
            await event("execution_success", {"prompt_id": pid, "timestamp": _now_ms()}, True)
        self.history[pid] = {
            "prompt": task.row(), "outputs": ui if status == "success" else {},
            "status": {"status_str": status, "completed": status == "success",
                       "messages": messages},
            "meta": {nid: {"node_id": nid, "display_node": nid, "parent_node": None,
                           "real_node_id": nid} for nid in (ui if status == "success" else {})},
        }

    async def _sleep(self, task: _Task, seconds: float) -> None:
        end = time.monotonic() + seconds
        while time.monotonic() < end and not task.interrupted:
            await asyncio.sleep(0.01)

    async def _run_node(self, task: _Task, nid: str, node: dict[str, Any],
                        values: dict[str, Any]) -> tuple[Any, dict[str, Any] | None]:
        cls = node["class_type"]
        args = {k: (values[v[0]][v[1]] if _is_link(v) else v) for k, v in node["inputs"].items()}
        if cls == "RepeatImageBatch" and self.progress_steps:
            png = _png(args["image"][0].resize((32, 18)))
            for step in range(self.progress_steps):
                await self._emit(task, "progress", {"value": step + 1, "max": self.progress_steps,
                                                    "prompt_id": task.prompt_id, "node": nid})
                await self._emit_preview(task, nid, png)
        if self.force_execution_error and self.object_info_base[cls].get("output_node"):
            raise _ExecError(_RECORDED_X264, "av.error.ExternalError")
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(None, self._compute, cls, args)

    def _compute(self, cls: str, a: dict[str, Any]) -> tuple[Any, dict[str, Any] | None]:
        if cls == "LoadImage":
            image = Image.open(io.BytesIO(self.inputs[a["image"]])).convert("RGB")
            return ([image], None), None
        if cls == "ImageScale":
            size = (a["width"], a["height"])
            if a["crop"] == "center":
                return ([ImageOps.fit(i, size, Image.Resampling.BILINEAR) for i in a["image"]],
                        ), None
            return ([i.resize(size, Image.Resampling.BILINEAR) for i in a["image"]],), None
        if cls == "RepeatImageBatch":
            return (list(a["image"]) * a["amount"],), None
        if cls == "ImageFlip":
            flip = ImageOps.flip if a["flip_method"].startswith("x") else ImageOps.mirror
            return ([flip(i) for i in a["image"]],), None
        if cls == "ImageBatch":
            return (list(a["image1"]) + list(a["image2"]),), None
        if cls == "CreateVideo":
            return ((a["images"], float(a["fps"])),), None
        if cls == "SaveVideo":
            frames, fps = a["video"]
            return (), self._save_video(frames, fps, a["filename_prefix"])
        if cls in ("SaveAnimatedWEBP", "SaveAnimatedPNG"):
            ext = ".webp" if cls == "SaveAnimatedWEBP" else ".png"
            name, sub = self._name(a["filename_prefix"], ext)
            buffer = io.BytesIO()
            first, *rest = a["images"]
            first.save(buffer, format="WEBP" if ext == ".webp" else "PNG", save_all=True,
                       append_images=rest, duration=round(1000 / a["fps"]), loop=0)
            self.outputs[(sub, name)] = buffer.getvalue()
            return (), {"images": [{"filename": name, "subfolder": sub, "type": "output"}],
                        "animated": [True]}
        if cls in ("SaveImage", "PreviewImage"):
            kind = "output" if cls == "SaveImage" else "temp"
            items = []
            for image in a["images"]:
                name, sub = self._name(a.get("filename_prefix", "ComfyUI_temp"), ".png")
                self.outputs[(sub, name)] = _png(image)
                items.append({"filename": name, "subfolder": sub, "type": kind})
            return (), {"images": items}
        raise _ExecError(f"the test server cannot run {cls}", "NotImplementedError")

    def _name(self, prefix: str, ext: str) -> tuple[str, str]:
        sub, _, base = prefix.rpartition("/")
        self._counters[prefix] = self._counters.get(prefix, 0) + 1
        return f"{base}_{self._counters[prefix]:05d}_{ext}", sub

    def _save_video(self, frames: list[Image.Image], fps: float, prefix: str) -> dict[str, Any]:
        width, height = frames[0].size
        if width % 2 or height % 2:
            raise _ExecError(_RECORDED_X264, "av.error.ExternalError")
        import imageio_ffmpeg

        name, sub = self._name(prefix, ".mp4")
        cmd = [imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-f", "rawvideo", "-pix_fmt",
               "rgb24", "-s", f"{width}x{height}", "-r", f"{fps:g}", "-i", "-", "-c:v", "libx264",
               "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-y"]
        raw = b"".join(f.tobytes() for f in frames)
        with tempfile.TemporaryDirectory() as tmp:
            target = Path(tmp) / "out.mp4"
            done = subprocess.run([*cmd, str(target)], input=raw, capture_output=True,
                                  check=False)
            if done.returncode:
                raise _ExecError(done.stderr.decode(errors="replace")[-300:],
                                 "av.error.FFmpegError")
            self.outputs[(sub, name)] = target.read_bytes()
        return {"images": [{"filename": name, "subfolder": sub, "type": "output"}],
                "animated": [True]}


_RECORDED_X264 = ("[Errno 542398533] Generic error in an external library: "
                  "'avcodec_open2(\"libx264\", {})'\n")


def _error_data(task: _Task, nid: str, node: dict[str, Any], executed: list[str],
                exc: _ExecError) -> dict[str, Any]:
    return {
        "prompt_id": task.prompt_id, "node_id": nid, "node_type": node["class_type"],
        "executed": list(executed), "exception_message": exc.message,
        "exception_type": exc.kind,
        "traceback": ["<traceback line 1 of 1 omitted>\n"],
        "current_inputs": {k: [repr(v)] for k, v in node["inputs"].items()},
        "current_outputs": list(task.graph), "timestamp": _now_ms(),
    }


def _custom_image_problem(node_id: str, image: Any) -> Any:
    from videogen_adapters.comfyui.schema import Problem

    return Problem(node_id, "LoadImage", "custom_validation_failed",
                   "Custom validation failed for node", f"image - Invalid image file: {image}",
                   "image")


def _state(pid: str, nid: str, state: str, value: float = 0.0,
           maximum: float = 1.0) -> dict[str, Any]:
    if state == "finished" and value == 0.0:
        value = 1.0
    return {"value": value, "max": maximum, "state": state, "node_id": nid, "prompt_id": pid,
            "display_node_id": nid, "parent_node_id": None, "real_node_id": nid}


def _is_link(value: Any) -> bool:
    return isinstance(value, list) and len(value) == 2 and isinstance(value[0], str)


def _topological(graph: dict[str, Any]) -> list[str]:
    order: list[str] = []

    def visit(nid: str) -> None:
        if nid in order:
            return
        for value in graph[nid]["inputs"].values():
            if _is_link(value):
                visit(value[0])
        order.append(nid)

    for nid in sorted(graph, key=lambda n: (len(n), n)):
        visit(nid)
    return order


def _signature(graph: dict[str, Any], nid: str) -> str:
    node = graph[nid]
    inputs = {k: (_signature(graph, v[0]), v[1]) if _is_link(v) else v
              for k, v in sorted(node["inputs"].items())}
    return json.dumps([node["class_type"], inputs], sort_keys=True, default=str)


def _png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


async def _as_coro(fn: Any) -> Any:
    return fn()


@contextlib.contextmanager
def comfyui_server() -> Iterator[ComfyUITestServer]:
    """Start a test server for the ``with`` block."""
    server = ComfyUITestServer().start()
    try:
        yield server
    finally:
        server.stop()

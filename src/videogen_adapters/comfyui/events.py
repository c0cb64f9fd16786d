"""Following one prompt through ComfyUI's websocket events or its ``/history`` entry.

Events for a prompt run with our ``client_id`` arrive in this order (recorded
from ComfyUI 0.3.64): ``status`` … ``execution_start`` → ``execution_cached``
→ per node ``progress_state`` / ``executing`` / ``progress`` (nodes that
report steps, e.g. KSampler) / ``executed`` (output nodes) →
``execution_success`` | ``execution_error`` | ``execution_interrupted`` →
``status`` → ``executing {"node": null}`` last. Binary frames (previews:
legacy type 1 ``u32 event, u32 image type, bytes`` or type 4 with JSON
metadata) carry nothing we need and are skipped by the caller.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["PromptWatch"]

TERMINAL = ("execution_success", "execution_error", "execution_interrupted")


class PromptWatch:
    """Accumulates what ComfyUI said about one prompt: outputs, cached nodes, the end state."""

    def __init__(self, prompt_id: str, on_progress: Callable[[float], None] | None = None) -> None:
        self.prompt_id = prompt_id
        self.outputs: dict[str, dict[str, Any]] = {}
        self.cached: tuple[str, ...] = ()
        self.terminal: str | None = None  # one of TERMINAL
        self.terminal_data: dict[str, Any] = {}
        self.idle = False  # the final ``executing {"node": null}`` was seen
        self.started = False
        self._on_progress = on_progress

    @property
    def done(self) -> bool:
        """True once the prompt reached an end state and the server said it is idle again."""
        return self.terminal is not None and self.idle

    def feed(self, message: Mapping[str, Any]) -> None:
        """Take one parsed websocket text message; messages of other prompts are ignored."""
        if not isinstance(message, Mapping):
            return
        kind = message.get("type")
        data = message.get("data")
        if not isinstance(data, Mapping) or data.get("prompt_id") != self.prompt_id:
            return
        if kind == "execution_start":
            self.started = True
        elif kind == "execution_cached":
            self.cached = tuple(data.get("nodes") or ())
        elif kind == "progress":
            maximum = data.get("max") or 0
            if self._on_progress is not None and maximum:
                self._on_progress(min(1.0, max(0.0, float(data.get("value", 0)) / maximum)))
        elif kind == "executed":
            node = str(data.get("node"))
            if isinstance(data.get("output"), Mapping):
                self.outputs[node] = dict(data["output"])
        elif kind in TERMINAL:
            self.terminal = str(kind)
            self.terminal_data = dict(data)
        elif kind == "executing" and data.get("node") is None:
            self.idle = True

    def feed_history(self, entry: Mapping[str, Any]) -> None:
        """Take a finished ``GET /history/<id>`` entry (outputs + status messages)."""
        for node, output in (entry.get("outputs") or {}).items():
            self.outputs.setdefault(str(node), dict(output))
        status = entry.get("status") or {}
        for event, data in status.get("messages") or []:
            if event == "execution_cached" and isinstance(data, Mapping):
                self.cached = tuple(data.get("nodes") or ())
            if event in TERMINAL and isinstance(data, Mapping):
                self.terminal, self.terminal_data = str(event), dict(data)
        if self.terminal is None:
            self.terminal = ("execution_success" if status.get("status_str") == "success"
                             else "execution_error")
            self.terminal_data = {"prompt_id": self.prompt_id,
                                  "exception_message": "ComfyUI reported the prompt as failed"}
        self.idle = True

"""ComfyUI's error bodies and events → videogen's error tree.

::

    POST /prompt 400 {"error", "node_errors"}      → RenderFailed("comfyui prompt validation")
    execution_error event / history message        → RenderFailed("comfyui execution")
    execution_interrupted not asked for by us      → RenderFailed("comfyui execution")
    timeout, connection refused, 5xx (after retry) → ServiceUnavailable("comfyui")

A 400 from ``/prompt`` is a RenderFailed, not an InvalidRequest: the graph is
built from the configured template, so the caller of the video API cannot fix
it — the operator must (install the model file, fix the template). The
message quotes ComfyUI's node id, class_type and messages; ``details`` keeps
the raw ``error`` and ``node_errors``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from videogen_core import RenderFailed

__all__ = ["execution_error", "interrupted_error", "validation_error"]


def _node_error_lines(node_errors: Mapping[str, Any]) -> list[str]:
    lines = []
    for node_id, entry in node_errors.items():
        class_type = entry.get("class_type", "?")
        for err in entry.get("errors", []):
            text = err.get("message", err.get("type", "error"))
            if err.get("details"):
                text = f"{text}: {err['details']}"
            lines.append(f"node {node_id} ({class_type}): {text}")
    return lines


def validation_error(body: Any, status: int) -> RenderFailed:
    """The domain error for a rejected ``POST /prompt`` (400: ``error`` + ``node_errors``)."""
    if not isinstance(body, Mapping):
        return RenderFailed("comfyui prompt validation", f"HTTP {status}: {str(body)[:300]}",
                            status=status)
    error = body.get("error") or {}
    if isinstance(error, str):
        error = {"message": error}
    node_errors = body.get("node_errors") or {}
    parts = [error.get("message", "prompt rejected")]
    if error.get("details"):
        parts[0] = f"{parts[0]} ({error['details']})"
    parts.extend(_node_error_lines(node_errors))
    return RenderFailed(
        "comfyui prompt validation", "; ".join(parts), status=status,
        error_type=error.get("type", ""), error=dict(error), node_errors=dict(node_errors),
    )


def execution_error(data: Mapping[str, Any]) -> RenderFailed:
    """The domain error for an ``execution_error`` event (ws or history ``messages``)."""
    message = str(data.get("exception_message", "")).strip()
    node_type = data.get("node_type", "?")
    node_id = data.get("node_id", "?")
    kind = data.get("exception_type", "an error")
    reason = f"node {node_id} ({node_type}) raised {kind}: {message}"
    return RenderFailed(
        "comfyui execution", reason, prompt_id=data.get("prompt_id"), node_id=node_id,
        node_type=node_type, exception_type=data.get("exception_type"),
        exception_message=message, traceback=list(data.get("traceback") or [])[-5:],
    )


def interrupted_error(data: Mapping[str, Any]) -> RenderFailed:
    """The domain error for an interruption we did not ask for (someone else's ``/interrupt``)."""
    return RenderFailed(
        "comfyui execution",
        f"the prompt was interrupted on the server at node {data.get('node_id', '?')} "
        f"({data.get('node_type', '?')})",
        prompt_id=data.get("prompt_id"), node_id=data.get("node_id"),
        node_type=data.get("node_type"),
    )

"""ComfyUI image-to-video: client, workflow templates, the ``ComfyUIClipRenderer``.

::

    client.py    ComfyUIClient — HTTP + websocket protocol, retries, cancel
    events.py    PromptWatch — following a prompt's events / history entry
    errors.py    ComfyUI error bodies → RenderFailed / ServiceUnavailable
    outputs.py   pick_outputs — which output files are the clip
    workflow.py  WorkflowTemplate, load_template — templates in workflows/*.json
    schema.py    check_graph — a graph against /object_info node schemas
    planning.py  prompt text, motion strength, seeds, chained segments
    media.py     decoding outputs, joining segments losslessly
    scheduler.py PromptScheduler — per-server slots, placement of scenes on servers
    renderer.py  ComfyUIClipRenderer
    fallback.py  FallbackClipRenderer (Ken Burns when ComfyUI is unreachable)
    factory.py   build_comfyui_renderer(settings)

Names are imported lazily (PyAV and Pillow load on first use).
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

__all__ = [
    "ComfyUIClient",
    "ComfyUIClipRenderer",
    "FallbackClipRenderer",
    "WorkflowTemplate",
    "build_comfyui_renderer",
    "builtin_templates",
    "load_template",
]

_LAZY = {
    "ComfyUIClient": "client",
    "ComfyUIClipRenderer": "renderer",
    "FallbackClipRenderer": "fallback",
    "WorkflowTemplate": "workflow",
    "build_comfyui_renderer": "factory",
    "builtin_templates": "workflow",
    "load_template": "workflow",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(import_module(f"{__name__}.{_LAZY[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

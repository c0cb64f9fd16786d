"""Workflow templates: an API-format ComfyUI prompt plus where to put each clip's values.

A template file is JSON::

    {"workflow": {<node id>: {"class_type": ..., "inputs": {...}}, ...},
     "bindings": {"image": ["2", "image"], "seed": ["5", "seed"],
                  "fps": [["3", "fps"], ["7", "fps"]], ...},
     "max_frames": 25, "native_fps": 8}

Only the ``image`` binding is required; a binding is one ``[node, input]``
pair or a list of them (one value set in several places). Optional keys:
``frame_step`` (frame counts must be ``1 + k·step``, e.g. 8 for LTX-Video),
``size_step``/``size_min`` (width/height rounding), ``max_pixels`` (the model's
native pixel budget: a larger output is generated at that many pixels in the same
aspect, and the clip is scaled up when it is conformed), ``motion`` (``{"base",
"min", "max"}``: the bound motion input is ``base × speed factor``, clamped),
``output_node`` (take the result from this node only), ``negative_prompt``
(default text) and ``description``.

:meth:`WorkflowTemplate.bind` returns a fresh graph with the bound inputs set
and every other input untouched; the value keeps the type the template had
there (``24`` stays an int, ``24.0`` a float).
"""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from typing import Any

import attrs

from videogen_core import InvalidRequest

__all__ = ["BINDING_NAMES", "WorkflowTemplate", "builtin_templates", "load_template"]

BINDING_NAMES = (
    "image", "seed", "frames", "fps", "width", "height", "prompt", "negative_prompt", "motion",
)
_SETTING = "VIDEOGEN_COMFYUI_WORKFLOW"

Target = tuple[str, str]


def _targets(name: str, raw: Any) -> tuple[Target, ...]:
    if (isinstance(raw, list | tuple) and len(raw) == 2
            and all(isinstance(x, str) for x in raw)):
        return ((raw[0], raw[1]),)
    if isinstance(raw, list | tuple) and raw and all(
            isinstance(p, list | tuple) and len(p) == 2 for p in raw):
        return tuple((str(p[0]), str(p[1])) for p in raw)
    raise InvalidRequest(f"bindings.{name}", "must be [node, input] or a list of them", raw)


@attrs.frozen
class WorkflowTemplate:
    """A parsed workflow template (see the module docstring for the file format)."""

    name: str
    workflow: Mapping[str, Any]
    bindings: Mapping[str, tuple[Target, ...]]
    max_frames: int = 4096
    native_fps: float | None = None
    frame_step: int = 1
    size_step: int = 8
    size_min: int = 16
    max_pixels: int | None = None
    motion: Mapping[str, float] | None = None
    output_node: str | None = None
    negative_prompt: str = ""
    description: str = ""

    @classmethod
    def from_dict(cls, name: str, data: Mapping[str, Any]) -> WorkflowTemplate:
        """Build and check a template from its JSON document."""
        workflow = data.get("workflow")
        if not isinstance(workflow, Mapping) or not workflow:
            raise InvalidRequest(_SETTING, f"template {name!r} has no 'workflow' graph")
        raw = data.get("bindings") or {}
        unknown = sorted(set(raw) - set(BINDING_NAMES))
        if unknown:
            raise InvalidRequest(_SETTING, f"template {name!r} has unknown bindings", unknown)
        if "image" not in raw:
            raise InvalidRequest(_SETTING, f"template {name!r} must bind 'image'")
        bindings = {key: _targets(key, value) for key, value in raw.items()}
        for key, targets in bindings.items():
            for node, _input in targets:
                if node not in workflow:
                    raise InvalidRequest(
                        _SETTING, f"template {name!r}: binding {key!r} names missing node", node)
        native = data.get("native_fps")
        return cls(
            name=name,
            workflow=copy.deepcopy(dict(workflow)),
            bindings=bindings,
            max_frames=int(data.get("max_frames", 4096)),
            native_fps=float(native) if native else None,
            frame_step=max(1, int(data.get("frame_step", 1))),
            size_step=max(1, int(data.get("size_step", 8))),
            size_min=int(data.get("size_min", 16)),
            max_pixels=int(data["max_pixels"]) if data.get("max_pixels") else None,
            motion=data.get("motion"),
            output_node=data.get("output_node"),
            negative_prompt=str(data.get("negative_prompt", "")),
            description=str(data.get("description", "")),
        )

    @property
    def class_types(self) -> set[str]:
        """Every node class the workflow needs."""
        return {node["class_type"] for node in self.workflow.values()}

    def valid_frames(self, wanted: int) -> int:
        """The smallest frame count ≥ ``wanted`` the model accepts (``1 + k·frame_step``)."""
        wanted = max(1, wanted)
        if self.frame_step <= 1:
            return wanted
        k = -(-(wanted - 1) // self.frame_step)
        return 1 + k * self.frame_step

    def frame_capacity(self, limit: int) -> int:
        """The largest valid frame count ≤ ``min(limit, max_frames)`` (at least 2 when possible)."""
        cap = max(1, min(limit, self.max_frames))
        if self.frame_step > 1:
            cap = 1 + (cap - 1) // self.frame_step * self.frame_step
        return cap

    def size(self, width: int, height: int) -> tuple[int, int]:
        """Generation size for an output size (the job's format): within ``max_pixels``
        in the same aspect, rounded to ``size_step``, at least ``size_min``."""
        scale = 1.0
        if self.max_pixels and width * height > self.max_pixels:
            scale = (self.max_pixels / (width * height)) ** 0.5

        def fit(value: int) -> int:
            return max(self.size_min, round(value * scale / self.size_step) * self.size_step)
        return fit(width), fit(height)

    def bind(self, values: Mapping[str, Any]) -> dict[str, Any]:
        """A copy of the graph with each bound input set from ``values`` (unbound names ignored)."""
        graph = copy.deepcopy(dict(self.workflow))
        for key, value in values.items():
            for node, name in self.bindings.get(key, ()):
                inputs = graph[node].setdefault("inputs", {})
                inputs[name] = _like(inputs.get(name), value)
        return graph


def _like(old: Any, value: Any) -> Any:
    if isinstance(old, bool) or isinstance(value, bool | str):
        return value
    if isinstance(old, float) and isinstance(value, int | float):
        return float(value)
    if isinstance(old, int) and isinstance(value, float):
        return round(value)
    return value


def builtin_templates() -> list[str]:
    """Names of the templates shipped in ``comfyui/workflows/``."""
    folder = resources.files(__package__) / "workflows"
    return sorted(p.name[:-5] for p in folder.iterdir() if p.name.endswith(".json"))


def load_template(name_or_path: str | Path) -> WorkflowTemplate:
    """Load a built-in template by name (``"svd_xt"``) or a template file by path."""
    text = str(name_or_path)
    path = Path(text).expanduser()
    if text.endswith(".json") or path.exists() or "/" in text:
        if not path.is_file():
            raise InvalidRequest(_SETTING, "workflow template file not found", text)
        raw, name = path.read_text(encoding="utf-8"), path.stem
    else:
        resource = resources.files(__package__) / "workflows" / f"{text}.json"
        if not resource.is_file():
            raise InvalidRequest(
                _SETTING, f"unknown workflow; built-in: {', '.join(builtin_templates())}", text)
        raw, name = resource.read_text(encoding="utf-8"), text
    try:
        data = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise InvalidRequest(_SETTING, f"template {name!r} is not valid JSON: {exc}") from exc
    if not isinstance(data, Mapping):
        raise InvalidRequest(_SETTING, f"template {name!r} must be a JSON object")
    return WorkflowTemplate.from_dict(name, data)

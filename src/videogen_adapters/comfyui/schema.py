"""Check an API-format graph against ComfyUI's ``/object_info`` node schemas.

:func:`check_graph` finds what ComfyUI's own prompt validation would reject —
unknown classes, missing required inputs, values out of range or not in a
combo list, links to missing nodes or of the wrong type — and reports each
as a :class:`Problem` using ComfyUI's error vocabulary (``required_input_missing``,
``value_not_in_list``...). It is used to check templates before any model runs.

Model-file combos (``ckpt_name``, ``unet_name``, ``clip_name``, ``vae_name``,
``lora_name``) are skipped with ``skip_model_files=True``: their lists hold
whatever files the server has installed (empty on a model-free server).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs

__all__ = ["MODEL_FILE_INPUTS", "Problem", "check_graph", "combo_options", "missing_classes"]

MODEL_FILE_INPUTS = frozenset({"ckpt_name", "unet_name", "clip_name", "vae_name", "lora_name"})


@attrs.frozen
class Problem:
    """One thing ComfyUI would reject: node, class, error type, human text, input name."""

    node_id: str
    class_type: str
    type: str
    message: str
    details: str = ""
    input_name: str = ""

    def __str__(self) -> str:
        where = f"node {self.node_id} ({self.class_type})"
        return f"{where}: {self.message}" + (f": {self.details}" if self.details else "")


def missing_classes(class_types: set[str], object_info: Mapping[str, Any]) -> list[str]:
    """The node classes in ``class_types`` that ``object_info`` does not know, sorted."""
    return sorted(c for c in class_types if c not in object_info)


def combo_options(spec: list[Any]) -> list[Any] | None:
    """Allowed values of a combo spec (old ``[[...]]`` or new ``["COMBO", {options}]``)."""
    if spec and isinstance(spec[0], list):
        return list(spec[0])
    if spec and spec[0] == "COMBO" and len(spec) > 1 and isinstance(spec[1], Mapping):
        return list(spec[1].get("options", []))
    return None


def _is_link(value: Any) -> bool:
    return (isinstance(value, list) and len(value) == 2 and isinstance(value[0], str)
            and isinstance(value[1], int) and not isinstance(value[1], bool))


def _check_value(node_id: str, cls: str, name: str, spec: list[Any], value: Any,
                 skip_model_files: bool) -> Problem | None:
    options = combo_options(spec)
    if options is not None:
        if skip_model_files and name in MODEL_FILE_INPUTS:
            return None
        if value not in options:
            return Problem(node_id, cls, "value_not_in_list", "Value not in list",
                           f"{name}: {value!r} not in {options!r}", name)
        return None
    kind = spec[0] if spec else None
    opts = spec[1] if len(spec) > 1 and isinstance(spec[1], Mapping) else {}
    if kind in ("INT", "FLOAT"):
        if isinstance(value, bool) or not isinstance(value, int | float):
            return Problem(node_id, cls, "invalid_input_type", "Failed to convert an input value",
                           f"{name}: {value!r}", name)
        if kind == "INT" and isinstance(value, float) and not value.is_integer():
            return Problem(node_id, cls, "invalid_input_type", "Failed to convert an input value",
                           f"{name}: {value!r} is not an integer", name)
        if "min" in opts and value < opts["min"]:
            return Problem(node_id, cls, "value_smaller_than_min",
                           f"Value {value} smaller than min of {opts['min']}", name, name)
        if "max" in opts and value > opts["max"]:
            return Problem(node_id, cls, "value_bigger_than_max",
                           f"Value {value} bigger than max of {opts['max']}", name, name)
    elif (kind == "BOOLEAN" and not isinstance(value, bool)) or (
            kind == "STRING" and not isinstance(value, str)):
        return Problem(node_id, cls, "invalid_input_type", "Failed to convert an input value",
                       f"{name}: {value!r}", name)
    return None


def _check_link(graph: Mapping[str, Any], object_info: Mapping[str, Any], node_id: str,
                cls: str, name: str, spec: list[Any], link: list[Any]) -> Problem | None:
    source = graph.get(link[0])
    if source is None:
        return Problem(node_id, cls, "exception_during_inner_validation",
                       "Exception when validating inner node", repr(link[0]), name)
    outputs = object_info.get(source.get("class_type"), {}).get("output", [])
    if not 0 <= link[1] < len(outputs):
        return Problem(node_id, cls, "return_type_mismatch",
                       "Return type mismatch between linked nodes",
                       f"{name}, node {link[0]} has no output {link[1]}", name)
    expected = spec[0] if spec else None
    received = outputs[link[1]]
    if isinstance(expected, str) and expected not in ("*", received) and received != "*":
        return Problem(node_id, cls, "return_type_mismatch",
                       "Return type mismatch between linked nodes",
                       f"{name}, received_type({received}) mismatch input_type({expected})", name)
    return None


def check_graph(graph: Mapping[str, Any], object_info: Mapping[str, Any], *,
                skip_model_files: bool = True) -> list[Problem]:
    """Every problem ComfyUI's validation would report for ``graph`` (empty when it passes)."""
    problems: list[Problem] = []
    for node_id, node in graph.items():
        cls = node.get("class_type", "")
        schema = object_info.get(cls)
        if schema is None:
            problems.append(Problem(node_id, cls, "invalid_prompt",
                                    f"Cannot execute because node {cls} does not exist.",
                                    f"Node ID '#{node_id}'"))
            continue
        inputs = node.get("inputs", {})
        declared = schema.get("input", {})
        for section in ("required", "optional"):
            for name, spec in (declared.get(section) or {}).items():
                if name not in inputs:
                    if section == "required":
                        problems.append(Problem(node_id, cls, "required_input_missing",
                                                "Required input is missing", name, name))
                    continue
                value = inputs[name]
                problem = (_check_link(graph, object_info, node_id, cls, name, spec, value)
                           if _is_link(value)
                           else _check_value(node_id, cls, name, spec, value, skip_model_files))
                if problem is not None:
                    problems.append(problem)
    if not any(object_info.get(n.get("class_type"), {}).get("output_node") for n in graph.values()):
        problems.append(Problem("", "", "prompt_no_outputs", "Prompt has no outputs"))
    return problems

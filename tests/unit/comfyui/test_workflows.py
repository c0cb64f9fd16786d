"""Workflow templates: loading, binding, and validation against recorded node schemas."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from videogen_adapters.comfyui.schema import MODEL_FILE_INPUTS, check_graph, combo_options
from videogen_adapters.comfyui.workflow import WorkflowTemplate, builtin_templates, load_template
from videogen_core import InvalidRequest

from .conftest import FIXTURES, recorded

BUILTIN = ["ltxv", "svd_xt", "test_repeat", "wan_i2v"]


def test_builtin_templates_are_listed():
    assert builtin_templates() == BUILTIN


@pytest.mark.parametrize("name", BUILTIN)
def test_builtin_template_fits_the_recorded_node_schemas(name, object_info):
    """Every class exists, every required input is set or linked, values are in range and
    in their combo lists, links point at existing nodes with the right output type.

    Model-file combos (ckpt_name, unet_name, clip_name, vae_name) are not checked: the
    recording server had no models installed, so those lists are empty there."""
    template = load_template(name)
    assert check_graph(template.workflow, object_info) == []
    skipped = {
        (node["class_type"], key)
        for node in template.workflow.values() for key in node["inputs"]
        if key in MODEL_FILE_INPUTS
    }
    if name == "test_repeat":
        assert skipped == set()
        assert check_graph(template.workflow, object_info, skip_model_files=False) == []
    else:  # on the model-free recording server only the model files are missing
        strict = check_graph(template.workflow, object_info, skip_model_files=False)
        assert strict and {(p.class_type, p.input_name) for p in strict} == skipped
        assert {p.type for p in strict} == {"value_not_in_list"}


@pytest.mark.parametrize("name", BUILTIN)
def test_bindings_hit_inputs_the_schema_declares(name, object_info):
    template = load_template(name)
    for key, targets in template.bindings.items():
        for node_id, input_name in targets:
            cls = template.workflow[node_id]["class_type"]
            declared = object_info[cls]["input"]
            names = {*declared.get("required", {}), *declared.get("optional", {})}
            assert input_name in names, (key, cls, input_name)


@pytest.mark.parametrize("name", BUILTIN)
def test_bound_values_stay_within_schema_ranges(name, object_info):
    """Binding realistic clip values keeps the graph valid (frames, fps, size, seed...)."""
    template = load_template(name)
    width, height = template.size(1024, 576)
    frames = template.frame_capacity(template.max_frames)
    graph = template.bind({"image": "example.png", "seed": 2**32 - 1, "frames": frames,
                           "fps": template.native_fps or 24, "width": width, "height": height,
                           "prompt": "the camera pans left. a forest.", "negative_prompt": "blur",
                           "motion": 190})
    assert check_graph(graph, object_info) == []


def test_recorded_svd_template_shape():
    svd = load_template("svd_xt")
    classes = [n["class_type"] for n in svd.workflow.values()]
    assert classes == ["ImageOnlyCheckpointLoader", "LoadImage", "SVD_img2vid_Conditioning",
                       "VideoLinearCFGGuidance", "KSampler", "VAEDecode", "CreateVideo",
                       "SaveVideo"]
    conditioning = svd.workflow["3"]["inputs"]
    assert (conditioning["width"], conditioning["height"]) == (1024, 576)
    assert svd.max_frames == 25 and svd.native_fps == 8
    assert "LTXVImgToVideo" in load_template("ltxv").class_types
    assert "WanImageToVideo" in load_template("wan_i2v").class_types
    assert load_template("ltxv").frame_step == 8 and load_template("wan_i2v").frame_step == 4


def test_test_repeat_is_the_recorded_model_free_graph():
    recorded_graph = json.loads((FIXTURES / "workflow_video_savevideo.json").read_text())
    template = load_template("test_repeat")
    assert [n["class_type"] for n in template.workflow.values()] == [
        n["class_type"] for n in recorded_graph.values()]
    assert list(template.workflow) == list(recorded_graph)


def test_bind_sets_only_bound_inputs_and_keeps_types():
    template = load_template("svd_xt")
    graph = template.bind({"image": "videogen_abc.png", "seed": 7, "frames": 14, "fps": 8.0,
                           "width": 512, "height": 288, "motion": 90, "prompt": "ignored"})
    assert graph["2"]["inputs"]["image"] == "videogen_abc.png"
    assert graph["5"]["inputs"]["seed"] == 7
    assert graph["3"]["inputs"]["video_frames"] == 14
    assert graph["3"]["inputs"]["fps"] == 8 and isinstance(graph["3"]["inputs"]["fps"], int)
    assert graph["7"]["inputs"]["fps"] == 8.0 and isinstance(graph["7"]["inputs"]["fps"], float)
    assert graph["3"]["inputs"]["motion_bucket_id"] == 90
    # untouched: everything else, and the template itself
    assert graph["5"]["inputs"]["steps"] == 20 and graph["5"]["inputs"]["cfg"] == 2.5
    assert graph["3"]["inputs"]["clip_vision"] == ["1", 1]
    assert template.workflow["2"]["inputs"]["image"] == "example.png"
    changed = {(n, k) for n in graph for k in graph[n]["inputs"]
               if graph[n]["inputs"][k] != template.workflow[n]["inputs"][k]}
    assert changed == {("2", "image"), ("5", "seed"), ("3", "video_frames"),
                       ("3", "width"), ("3", "height"), ("3", "motion_bucket_id")}


def test_frame_and_size_rules():
    ltxv = load_template("ltxv")
    assert ltxv.valid_frames(50) == 57 and ltxv.valid_frames(9) == 9
    assert ltxv.frame_capacity(144) == 121 and ltxv.frame_capacity(100) == 97
    assert ltxv.size(160, 90) == (160, 96) and ltxv.size(16, 16) == (64, 64)
    assert load_template("test_repeat").size(160, 90) == (160, 90)


def test_load_by_path(tmp_path):
    path = tmp_path / "mine.json"
    path.write_text((FIXTURES / "test_flip.json").read_text())
    template = load_template(str(path))
    assert template.name == "mine" and "ImageFlip" in template.class_types


@pytest.mark.parametrize("document, words", [
    ({"workflow": {"1": {"class_type": "LoadImage", "inputs": {}}}, "bindings": {}},
     "bind 'image'"),
    ({"workflow": {"1": {"class_type": "LoadImage", "inputs": {}}},
      "bindings": {"image": ["9", "image"]}}, "missing node"),
    ({"workflow": {"1": {"class_type": "LoadImage", "inputs": {}}},
      "bindings": {"image": ["1", "image"], "colour": ["1", "x"]}}, "unknown bindings"),
    ({"bindings": {"image": ["1", "image"]}}, "no 'workflow'"),
])
def test_bad_templates_are_rejected(document, words):
    with pytest.raises(InvalidRequest) as info:
        WorkflowTemplate.from_dict("bad", document)
    assert words in str(info.value)


def test_unknown_name_lists_the_builtins(tmp_path):
    with pytest.raises(InvalidRequest) as info:
        load_template("no_such_workflow")
    assert "svd_xt" in str(info.value) and "VIDEOGEN_COMFYUI_WORKFLOW" in str(info.value)
    with pytest.raises(InvalidRequest):
        load_template(str(tmp_path / "missing.json"))
    broken = tmp_path / "broken.json"
    broken.write_text("{nope")
    with pytest.raises(InvalidRequest, match="not valid JSON"):
        load_template(str(broken))


@pytest.mark.parametrize("name", [
    "prompt_error_missing_required_input", "prompt_error_value_below_min",
    "prompt_error_bad_combo_value", "prompt_error_wrong_link_type",
    "prompt_error_link_to_missing_node",
])
def test_schema_check_finds_what_comfyui_rejected(name, object_info):
    """The recorded broken graphs: check_graph reports the same node and error type."""
    exchange = recorded(name)
    graph = exchange["request"]["json"]["prompt"]
    expected = {(node, err["type"]) for node, entry in exchange["response"]["json"]["node_errors"]
                .items() for err in entry["errors"]}
    found = {(p.node_id, p.type) for p in check_graph(graph, object_info)}
    assert expected <= found


def test_schema_check_unknown_class_and_no_outputs(object_info):
    graph = recorded("prompt_error_unknown_node_class")["request"]["json"]["prompt"]
    assert next(p.type for p in check_graph(graph, object_info)) == "invalid_prompt"
    no_out = recorded("prompt_error_no_output_nodes")["request"]["json"]["prompt"]
    assert "prompt_no_outputs" in {p.type for p in check_graph(no_out, object_info)}


def test_combo_options_reads_both_spellings(object_info):
    assert combo_options(object_info["SaveVideo"]["input"]["required"]["format"]) == [
        "auto", "mp4"]
    assert "lanczos" in combo_options(object_info["ImageScale"]["input"]["required"][
        "upscale_method"])
    assert combo_options(["INT", {"min": 1}]) is None


def test_fixture_template_is_valid(object_info):
    template = load_template(str(Path(FIXTURES / "test_flip.json")))
    assert check_graph(template.workflow, object_info, skip_model_files=False) == []

"""Choosing the clip among a prompt's outputs (recorded output shapes)."""

from __future__ import annotations

from videogen_adapters.comfyui.outputs import OutputFile, pick_outputs

from .conftest import recorded


def _outputs(name: str) -> dict:
    entry = next(iter(recorded(name)["response"]["json"].values()))
    return entry["outputs"]


def test_savevideo_output_is_under_images():
    [item] = pick_outputs(_outputs("history_video_savevideo_success"))
    assert item == OutputFile("contract_test_00001_.mp4", "video", "output", "5", True)
    assert item.suffix == ".mp4"


def test_animated_beats_stills_in_the_three_output_recording():
    outputs = _outputs("history_animated_webp_png_still_success")
    [item] = pick_outputs(outputs)
    assert item.animated and item.suffix in (".webp", ".png")
    # the first animated output node by id wins (deterministic)
    animated_nodes = sorted((n for n, o in outputs.items() if o.get("animated")), key=int)
    assert item.node_id == animated_nodes[0]


def test_output_node_restricts_the_choice():
    outputs = _outputs("history_animated_webp_png_still_success")
    still_node = next(n for n, o in outputs.items() if not o.get("animated"))
    files = pick_outputs(outputs, output_node=still_node)
    assert files and all(f.node_id == still_node and not f.animated for f in files)


def test_stills_are_a_frame_sequence_in_order():
    outputs = {"9": {"images": [{"filename": f"f_{i:05d}_.png", "subfolder": "",
                                 "type": "output"} for i in range(1, 4)]}}
    assert [f.filename for f in pick_outputs(outputs)] == [
        "f_00001_.png", "f_00002_.png", "f_00003_.png"]


def test_videos_and_gifs_keys_and_video_preference():
    outputs = {
        "3": {"images": [{"filename": "a.png", "subfolder": "", "type": "output"}]},
        "4": {"gifs": [{"filename": "clip_00001.webm", "subfolder": "", "type": "output",
                        "format": "video/webm"}]},
        "5": {"videos": [{"filename": "clip.mp4", "subfolder": "v", "type": "output"}]},
    }
    assert pick_outputs(outputs)[0].filename == "clip_00001.webm"
    del outputs["4"]
    assert pick_outputs(outputs) == [OutputFile("clip.mp4", "v", "output", "5", True)]


def test_temp_previews_only_when_nothing_else():
    outputs = {"2": {"images": [{"filename": "p.png", "subfolder": "", "type": "temp"}]},
               "3": {"images": [{"filename": "s.png", "subfolder": "", "type": "output"}]}}
    assert pick_outputs(outputs)[0].filename == "s.png"
    del outputs["3"]
    assert pick_outputs(outputs)[0].type == "temp"
    assert pick_outputs({}) == [] and pick_outputs({"1": {"text": ["hi"]}}) == []

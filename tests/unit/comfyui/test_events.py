"""PromptWatch fed with the recorded websocket sessions and history entries."""

from __future__ import annotations

from videogen_adapters.comfyui.events import PromptWatch

from .conftest import recorded, recorded_ws


def _prompt_id(messages):
    return next(m["data"]["prompt_id"] for m in messages if m["type"] == "execution_start")


def _replay(name, progress=None):
    messages = recorded_ws(name)
    watch = PromptWatch(_prompt_id(messages), progress)
    for message in messages:
        watch.feed(message)
    return watch


def test_recorded_success():
    watch = _replay("video_savevideo_success")
    assert watch.done and watch.terminal == "execution_success"
    assert watch.outputs["5"]["images"][0]["filename"] == "contract_test_00001_.mp4"
    assert watch.cached == ()


def test_recorded_cached_rerun_still_has_outputs():
    watch = _replay("video_savevideo_cached_rerun")
    assert watch.done and watch.cached == ("1", "2", "3", "4", "5")
    assert "5" in watch.outputs


def test_recorded_execution_error():
    watch = _replay("execution_error")
    assert watch.terminal == "execution_error"
    assert watch.terminal_data["node_type"] == "SaveVideo"
    assert "libx264" in watch.terminal_data["exception_message"]


def test_recorded_interrupt():
    watch = _replay("interrupted")
    assert watch.terminal == "execution_interrupted" and watch.done


def test_recorded_progress_messages_feed_the_callback():
    seen: list[float] = []
    watch = _replay("saveimagewebsocket_legacy_binary", seen.append)
    assert seen == [0.0, 1 / 3, 2 / 3]
    assert watch.done


def test_other_prompts_are_ignored():
    watch = PromptWatch("someone-else")
    for message in recorded_ws("video_savevideo_success"):
        watch.feed(message)
    assert not watch.done and watch.outputs == {} and watch.terminal is None


def test_history_entries():
    for name, terminal in [("history_video_savevideo_success", "execution_success"),
                           ("history_execution_error", "execution_error"),
                           ("history_interrupted", "execution_interrupted")]:
        [(prompt_id, entry)] = recorded(name)["response"]["json"].items()
        watch = PromptWatch(prompt_id)
        watch.feed_history(entry)
        assert watch.done and watch.terminal == terminal
    assert watch.outputs == {}

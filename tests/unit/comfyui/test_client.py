"""ComfyUIClient over httpx.MockTransport: error translation, retries, uploads, polling."""

from __future__ import annotations

import json
from collections.abc import Callable

import httpx
import pytest

from videogen_adapters.comfyui.client import ComfyUIClient
from videogen_core import CancelToken, RenderFailed, ServiceUnavailable

from .conftest import recorded

Handler = Callable[[httpx.Request], httpx.Response]


def _client(handler: Handler, **kwargs) -> ComfyUIClient:
    http = httpx.Client(base_url="http://comfy.test:8188", transport=httpx.MockTransport(handler))
    kwargs.setdefault("backoff", 0.001)
    kwargs.setdefault("poll_interval", 0.001)
    return ComfyUIClient(http, **kwargs)


def _replay(name: str) -> httpx.Response:
    response = recorded(name)["response"]
    if "json" in response:
        return httpx.Response(response["status"], json=response["json"])
    return httpx.Response(response["status"], text=response.get("text", ""))


@pytest.mark.parametrize("name, words", [
    ("prompt_error_missing_required_input",
     "node 2 (ImageScale): Required input is missing: width"),
    ("prompt_error_bad_combo_value", "node 2 (ImageScale): Value not in list: upscale_method"),
    ("prompt_error_bad_image_filename",
     "node 1 (LoadImage): Custom validation failed for node: image - Invalid image file"),
    ("prompt_error_unknown_node_class",
     "Cannot execute because node NoSuchNodeClass does not exist. (Node ID '#1')"),
    ("prompt_error_no_output_nodes", "Prompt has no outputs"),
])
def test_recorded_400_bodies_become_render_failed(name, words):
    client = _client(lambda request: _replay(name))
    with pytest.raises(RenderFailed) as info:
        client.queue_prompt({"1": {}}, "pid")
    error = info.value
    assert words in error.message
    body = recorded(name)["response"]["json"]
    assert error.details["node_errors"] == body["node_errors"]
    assert error.details["error_type"] == body["error"]["type"]
    assert error.to_dict()["code"] == "render_failed"


def test_prompt_body_has_client_id_and_our_prompt_id():
    seen = []

    def handler(request):
        seen.append(json.loads(request.content))
        return httpx.Response(200, json={"prompt_id": seen[-1]["prompt_id"], "number": 3,
                                         "node_errors": {}})

    client = _client(handler, client_id="cid-1")
    assert client.queue_prompt({"1": {"class_type": "X"}}, "pid-1") == 3
    assert seen == [{"prompt": {"1": {"class_type": "X"}}, "client_id": "cid-1",
                     "prompt_id": "pid-1"}]


def test_5xx_is_retried_then_succeeds():
    calls = []

    def handler(request):
        calls.append(request.url.path)
        if len(calls) < 3:
            return _replay("prompt_error_invalid_json_body")  # the recorded plain-text 500
        return httpx.Response(200, json={"system": {}})

    assert _client(handler).system_stats() == {"system": {}}
    assert calls == ["/system_stats"] * 3


def test_5xx_forever_is_service_unavailable_quoting_the_body():
    client = _client(lambda r: _replay("prompt_error_invalid_json_body"), retries=2)
    with pytest.raises(ServiceUnavailable) as info:
        client.system_stats()
    assert info.value.service == "comfyui"
    assert "HTTP 500" in info.value.message and "Server got itself in trouble" in info.value.message


@pytest.mark.parametrize("exc", [httpx.ConnectError("refused"), httpx.ReadTimeout("slow")])
def test_transport_errors_are_retried_then_service_unavailable(exc):
    calls = []

    def handler(request):
        calls.append(1)
        raise exc

    with pytest.raises(ServiceUnavailable) as info:
        _client(handler, retries=3).object_info()
    assert len(calls) == 4
    assert isinstance(info.value.__cause__, type(exc))


def test_timed_out_post_is_not_queued_twice():
    posts = []

    def handler(request):
        if request.url.path == "/prompt":
            posts.append(1)
            raise httpx.ReadTimeout("answer lost")
        if request.url.path == "/queue":  # the first POST did reach the server
            return httpx.Response(200, json={"queue_running": [[0, "pid", {}, {}, []]],
                                             "queue_pending": []})
        return httpx.Response(200, json={})

    _client(handler).queue_prompt({}, "pid")
    assert posts == [1]


def test_upload_uses_a_content_hash_name_and_the_answer():
    bodies = []

    def handler(request):
        bodies.append(request.content)
        return _replay("upload_image_name_collision")  # ComfyUI renamed it anyway

    client = _client(handler)
    name = client.upload_image(b"png-bytes")
    assert name == "contract_input (1).png"
    assert b'name="type"' in bodies[0] and b"input" in bodies[0]
    assert b'name="overwrite"' in bodies[0] and b"true" in bodies[0]
    assert b'filename="videogen_' in bodies[0]
    client.upload_image(b"png-bytes")
    client.upload_image(b"other-bytes")
    names = [b.split(b'filename="')[1].split(b'"')[0] for b in bodies]
    assert names[0] == names[1] != names[2]


def test_upload_into_a_subfolder_returns_the_path():
    client = _client(lambda r: httpx.Response(200, json={"name": "a.png", "subfolder": "vg",
                                                         "type": "input"}))
    assert client.upload_image(b"x", subfolder="vg") == "vg/a.png"


def test_missing_upload_file_400_is_render_failed():
    with pytest.raises(RenderFailed, match="upload"):
        _client(lambda r: _replay("upload_image_missing_file_400")).upload_image(b"x")


def test_check_nodes_lists_every_missing_class(object_info):
    client = _client(lambda r: httpx.Response(200, json=object_info))
    client.check_nodes({"LoadImage", "SaveVideo"}, "ok")
    with pytest.raises(RenderFailed) as info:
        client.check_nodes({"LoadImage", "VHS_VideoCombine", "ADE_AnimateDiffLoader"}, "mine")
    assert "ADE_AnimateDiffLoader, VHS_VideoCombine" in info.value.message
    assert info.value.details["missing"] == ["ADE_AnimateDiffLoader", "VHS_VideoCombine"]


def test_without_websocket_run_polls_history_until_done():
    entry = next(iter(recorded("history_video_savevideo_success")["response"]["json"].values()))
    polls = []

    def handler(request):
        path = request.url.path
        if path == "/prompt":
            pid = json.loads(request.content)["prompt_id"]
            return httpx.Response(200, json={"prompt_id": pid, "number": 0, "node_errors": {}})
        if path.startswith("/history/"):
            polls.append(path)
            # recorded: {} while running, then the entry
            return httpx.Response(200, json={} if len(polls) < 3 else {path[9:]: entry})
        raise AssertionError(path)

    result = _client(handler, ws_connect=None).run({"1": {}})
    assert len(polls) == 3
    assert result.outputs["5"]["images"][0]["filename"] == "contract_test_00001_.mp4"


def test_history_error_entry_becomes_render_failed():
    entry = next(iter(recorded("history_execution_error")["response"]["json"].values()))

    def handler(request):
        if request.url.path == "/prompt":
            return httpx.Response(200, json={"prompt_id": "x", "number": 0, "node_errors": {}})
        return httpx.Response(200, json={request.url.path[9:]: entry})

    with pytest.raises(RenderFailed) as info:
        _client(handler).run({"1": {}})
    assert info.value.details["node_type"] == "SaveVideo"
    assert "av.error.ExternalError" in info.value.message
    assert "avcodec_open2" in info.value.message


def test_cancel_deletes_and_interrupts_the_prompt():
    sent = []
    token = CancelToken()

    def handler(request):
        path = request.url.path
        if path == "/prompt":
            return httpx.Response(200, json={"prompt_id": "x", "number": 0, "node_errors": {}})
        if request.method == "POST":
            sent.append((path, json.loads(request.content)))
            return httpx.Response(200)
        if path == "/queue":
            return httpx.Response(200, json={"queue_running": [], "queue_pending": []})
        token.cancel()  # while polling /history
        return httpx.Response(200, json={})

    from videogen_core import Cancelled

    with pytest.raises(Cancelled):
        _client(handler).run({"1": {}}, cancel=token)
    pid = sent[0][1]["delete"][0]
    assert sent[:2] == [("/queue", {"delete": [pid]}), ("/interrupt", {"prompt_id": pid})]


def test_ws_url_follows_the_base_url():
    client = ComfyUIClient(httpx.Client(base_url="https://gpu.example/comfy/"), client_id="c")
    assert client.ws_url == "wss://gpu.example/comfy/ws?clientId=c"

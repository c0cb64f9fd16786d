"""ComfyUIClipRenderer against the test ComfyUI server: the ClipRenderer contract
(the same suite Ken Burns passes) and every recorded protocol scenario."""

from __future__ import annotations

import contextlib
import itertools
import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import av
import httpx
import pytest
from tests.comfyui_server import FIXTURES, ComfyUITestServer, recorded_messages
from tests.contract.renderer_contract import ClipRendererContract, textured_image

from videogen_adapters.comfyui.client import ComfyUIClient, default_ws_connect
from videogen_adapters.comfyui.fallback import FallbackClipRenderer
from videogen_adapters.comfyui.renderer import ComfyUIClipRenderer
from videogen_adapters.comfyui.workflow import load_template
from videogen_adapters.ffmpeg.kenburns import KenBurnsClipRenderer
from videogen_core import (
    Cancelled,
    CancelToken,
    ClipRequest,
    RenderFailed,
    ServiceUnavailable,
    VideoSettings,
)

FLIP = str(FIXTURES / "test_flip.json")
SMALL = VideoSettings(width=160, height=90, fps=12, crf=20, preset="ultrafast")


@pytest.fixture(scope="module")
def server():
    with ComfyUITestServer() as running:
        yield running


@pytest.fixture(autouse=True)
def _fresh_scenario(server):
    server.reset_scenario()
    yield
    server.reset_scenario()


def make_client(url: str, *, timeout: float = 5.0, ws: bool = True, **kwargs) -> ComfyUIClient:
    kwargs.setdefault("backoff", 0.01)
    kwargs.setdefault("poll_interval", 0.05)
    kwargs.setdefault("history_interval", 0.5)
    kwargs.setdefault("cancel_grace", 3.0)
    http = httpx.Client(base_url=url, timeout=timeout, trust_env=False)
    return ComfyUIClient(http, ws_connect=default_ws_connect() if ws else None, **kwargs)


def make_renderer(server, template: str = FLIP, **kwargs) -> ComfyUIClipRenderer:
    client = kwargs.pop("client", None) or make_client(server.url)
    return ComfyUIClipRenderer(client, load_template(template), **kwargs)


def request_for(image: Path, **changes) -> ClipRequest:
    fields = {"image_path": image, "duration": 1.0, "clip_action": "slow zoom in", "seed": 7,
              "settings": SMALL, "scene_number": 1}
    fields.update(changes)
    return ClipRequest(**fields)


def frame_count(path: Path) -> int:
    with av.open(str(path)) as container:
        return sum(1 for _ in container.decode(video=0))


_SEEDS = iter(range(100, 10_000))


@pytest.fixture
def image(tmp_path) -> Path:
    """A scene image no other test used: the server cannot answer from its node cache."""
    return textured_image(tmp_path / "scene_1.png", seed=next(_SEEDS))


# ------------------------------------------------------------------ contract
class TestComfyUIContract(ClipRendererContract):
    """The port contract, rendered through the test server with real media."""

    @pytest.fixture
    def renderer(self, server):
        return make_renderer(server)


# ------------------------------------------------------------------ protocol
def test_success_uploads_queues_follows_and_conforms(server, image, tmp_path):
    renderer = make_renderer(server)
    seen: list[float] = []
    before = len(server.prompts)
    clip = renderer.render(request_for(image, duration=1.5), tmp_path / "c.mp4",
                           progress=seen.append)
    assert clip.frames == 18 == frame_count(clip.path)
    [body] = server.prompts[before:]
    assert body["client_id"].startswith(renderer.client.client_id) and body["prompt_id"]
    assert body["client_id"] in server.sent  # the socket of this run got the events
    uploaded = body["prompt"]["1"]["inputs"]["image"]
    assert uploaded.startswith("videogen_") and uploaded.endswith(".png")
    assert body["prompt"]["5"]["inputs"]["amount"] == 18  # frames bound
    assert body["prompt"]["2"]["inputs"]["width"] == 160
    assert seen == sorted(seen) and seen[-1] == 1.0 and len(seen) >= 4
    assert server.history[body["prompt_id"]]["status"]["status_str"] == "success"


@pytest.mark.parametrize("metadata", [False, True], ids=["legacy-type-1", "type-4"])
def test_binary_preview_frames_are_skipped(server, image, tmp_path, metadata):
    client = make_client(server.url, preview_metadata=metadata)
    seen: list[float] = []
    clip = make_renderer(server, client=client).render(request_for(image), tmp_path / "c.mp4",
                                                       progress=seen.append)
    assert frame_count(clip.path) == 12 and seen[-1] == 1.0
    [sid] = [p["client_id"] for p in server.prompts if p["client_id"].startswith(
        client.client_id)]
    frames = [m for m in server.sent[sid] if isinstance(m, bytes)]
    assert len(frames) == 3  # one preview per progress step, all ignored by the client
    assert {int.from_bytes(f[:4], "big") for f in frames} == ({4} if metadata else {1})
    if metadata:
        assert {"type": "feature_flags", "data": {"supports_preview_metadata": True,
                                                  "max_upload_size": 104857600}} in server.sent[sid]


@pytest.mark.parametrize("output", ["SaveAnimatedWEBP", "SaveAnimatedPNG", "SaveImage"])
def test_animated_and_still_outputs(server, image, tmp_path, output):
    """Outputs under ``images`` (+ ``animated``) from other save nodes; stills are a sequence."""
    document = json.loads(Path(FLIP).read_text())
    inputs = {"images": ["5", 0], "filename_prefix": "videogen_alt"}
    if output != "SaveImage":
        inputs.update({"fps": 12.0})
    if output == "SaveAnimatedWEBP":
        inputs.update({"lossless": True, "quality": 90, "method": "fastest"})
    if output == "SaveAnimatedPNG":
        inputs.update({"compress_level": 1})
    document["workflow"]["7"] = {"class_type": output, "inputs": inputs}
    del document["workflow"]["6"], document["bindings"]["fps"]
    path = tmp_path / f"alt_{output}.json"
    path.write_text(json.dumps(document))
    before = len(server.requests)
    clip = make_renderer(server, str(path)).render(request_for(image), tmp_path / "c.mp4")
    assert frame_count(clip.path) == 12
    views = [p for m, p in server.requests[before:] if p == "/view"]
    # stills: only the 12 frames the clip keeps are fetched (the node saved 2x12)
    assert len(views) == (12 if output == "SaveImage" else 1)


def test_cached_rerun(server, image):
    client = make_client(server.url)
    name = client.upload_image((FIXTURES / "upload_input.png").read_bytes())
    graph = load_template("test_repeat").bind({"image": name, "frames": 5, "width": 64,
                                               "height": 36})
    first = client.run(graph)
    second = client.run(graph)
    assert set(second.cached) == set(graph) and first.cached != second.cached
    assert second.outputs == first.outputs  # executed is still sent for cached output nodes


def test_validation_error_quotes_node_class_and_message(server, image, tmp_path):
    """The SVD template on a model-free server: ComfyUI rejects the empty model list."""
    with pytest.raises(RenderFailed) as info:
        make_renderer(server, "svd_xt").render(request_for(image), tmp_path / "c.mp4")
    error = info.value
    assert error.details["error_type"] == "prompt_outputs_failed_validation"
    assert "node 1 (ImageOnlyCheckpointLoader): Value not in list: ckpt_name" in error.message
    assert not (tmp_path / "c.mp4").exists()


def test_recorded_validation_body(server, image, tmp_path):
    server.force_validation_error = True
    with pytest.raises(RenderFailed, match="node 2 \\(ImageScale\\): Required input is missing"):
        make_renderer(server).render(request_for(image), tmp_path / "c.mp4")


def test_execution_error_quotes_node_type_and_exception(server, image, tmp_path):
    server.force_execution_error = True
    with pytest.raises(RenderFailed) as info:
        make_renderer(server).render(request_for(image), tmp_path / "c.mp4")
    assert info.value.details["node_type"] == "SaveVideo"
    assert "avcodec_open2" in info.value.message and "node 7 (SaveVideo)" in info.value.message


def test_odd_size_fails_in_savevideo_as_recorded(server):
    client = make_client(server.url)
    name = client.upload_image((FIXTURES / "upload_input.png").read_bytes())
    graph = load_template("test_repeat").bind({"image": name, "frames": 4, "width": 101,
                                               "height": 75})
    with pytest.raises(RenderFailed, match="libx264"):
        client.run(graph)


def test_cancel_interrupts_the_running_prompt(server, image, tmp_path):
    server.node_delay = 0.3
    renderer = make_renderer(server)
    token = CancelToken()
    timer = threading.Timer(0.4, token.cancel)
    before = len(server.prompts)
    timer.start()
    try:
        with pytest.raises(Cancelled):
            renderer.render(request_for(image), tmp_path / "c.mp4", cancel=token)
    finally:
        timer.cancel()
    [body] = server.prompts[before:]
    pid = body["prompt_id"]
    assert pid in server.interrupts and pid in server.deletes
    assert server.queue_snapshot() == {"queue_running": [], "queue_pending": []}
    messages = [m[0] for m in server.history[pid]["status"]["messages"]]
    assert messages[-1] == "execution_interrupted"
    assert not (tmp_path / "c.mp4").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["scene_1.png"]


def test_cancel_removes_a_queued_prompt(server, image, tmp_path):
    """Ours waits behind someone else's slow prompt; cancelling deletes it from the queue."""
    server.node_delay = 0.6  # the blocker runs ~1.8 s
    other = make_client(server.url)
    name = other.upload_image((FIXTURES / "upload_input.png").read_bytes())
    blocker = load_template("test_repeat").bind({"image": name, "frames": 3,
                                                 "width": 2 * next(_SEEDS), "height": 18})
    blocking = threading.Thread(target=other.run, args=(blocker,))
    blocking.start()
    renderer = make_renderer(server)
    try:
        token = CancelToken()

        def cancel_once_queued() -> None:  # not a fixed delay: a loaded machine is slow
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline and not any(
                    p["client_id"].startswith(renderer.client.client_id)
                    for p in server.prompts):
                time.sleep(0.02)
            token.cancel()

        threading.Thread(target=cancel_once_queued, daemon=True).start()
        with pytest.raises(Cancelled):
            renderer.render(request_for(image), tmp_path / "c.mp4", cancel=token)
    finally:
        blocking.join(10)
    [ours] = [p["prompt_id"] for p in server.prompts
              if p["client_id"].startswith(renderer.client.client_id)]
    assert ours in server.deletes
    assert ours not in server.history  # it never ran


def test_interrupt_by_someone_else_is_render_failed(server, image, tmp_path):
    server.node_delay = 0.3
    before = len(server.executions)

    def interrupt_once_running() -> None:  # not a fixed delay: a loaded machine is slow
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not any(
                e["started"] for e in list(server.executions)[before:]):
            time.sleep(0.02)
        time.sleep(0.05)
        httpx.post(server.url + "/interrupt")

    threading.Thread(target=interrupt_once_running, daemon=True).start()
    with pytest.raises(RenderFailed, match="interrupted on the server"):
        make_renderer(server).render(request_for(image), tmp_path / "c.mp4")


def test_prompt_timeout_cancels_and_is_service_unavailable(server, image, tmp_path):
    server.node_delay = 0.3
    renderer = make_renderer(server, timeout=0.5)
    before = len(server.prompts)
    with pytest.raises(ServiceUnavailable, match=r"did not finish within 0\.5 s"):
        renderer.render(request_for(image), tmp_path / "c.mp4")
    [body] = server.prompts[before:]
    assert body["prompt_id"] in server.interrupts and body["prompt_id"] in server.deletes


def test_dropped_websocket_falls_back_to_history(server, image, tmp_path):
    server.drop_ws_after = "execution_start"
    server.node_delay = 0.05
    before = len(server.requests)
    clip = make_renderer(server).render(request_for(image), tmp_path / "c.mp4")
    assert frame_count(clip.path) == 12
    assert any(path.startswith("/history/") for _, path in server.requests[before:])


def test_no_websocket_polls_history(server, image, tmp_path):
    server.ws_enabled = False
    before = len(server.requests)
    clip = make_renderer(server).render(request_for(image), tmp_path / "c.mp4")
    assert frame_count(clip.path) == 12
    assert ("GET", "/ws") in server.requests[before:]
    assert any(path.startswith("/history/") for _, path in server.requests[before:])


def test_server_down_is_service_unavailable(image, tmp_path):
    down = ComfyUITestServer().start()
    url = down.url
    down.stop()  # the port is now closed
    renderer = make_renderer(None, client=make_client(url, retries=2))
    with pytest.raises(ServiceUnavailable) as info:
        renderer.render(request_for(image), tmp_path / "c.mp4")
    assert info.value.service == "comfyui" and "cannot connect" in info.value.message
    with pytest.raises(ServiceUnavailable):
        renderer.check()


def test_fallback_renders_with_ken_burns_and_warns(image, tmp_path):
    down = ComfyUITestServer().start()
    url = down.url
    down.stop()
    primary = make_renderer(None, client=make_client(url, retries=1))
    renderer = FallbackClipRenderer(primary, KenBurnsClipRenderer())
    clip = renderer.render(request_for(image, scene_number=3), tmp_path / "c.mp4")
    assert frame_count(clip.path) == 12
    [warning] = clip.warnings
    assert warning.startswith("scene 3: comfyui unavailable") and "kenburns" in warning.lower()


def test_slow_server_times_out_then_service_unavailable(server, image, tmp_path):
    server.http_delay, server.http_delay_count = 1.0, -1
    client = make_client(server.url, timeout=0.2, retries=1)
    with pytest.raises(ServiceUnavailable, match="timed out"):
        make_renderer(server, client=client).render(request_for(image), tmp_path / "c.mp4")


def test_slow_answer_is_retried_without_queueing_twice(server, image):
    client = make_client(server.url, timeout=0.5)
    name = client.upload_image((FIXTURES / "upload_input.png").read_bytes())
    graph = load_template("test_repeat").bind({"image": name, "frames": 2, "width": 32,
                                               "height": 18})
    server.http_delay, server.http_delay_count = 1.0, 1  # POST /prompt answers too late
    before = len(server.prompts)
    result = client.run(graph)
    ids = [p["prompt_id"] for p in server.prompts[before:]]
    assert ids == [result.prompt_id]


def test_5xx_then_success(server, image, tmp_path):
    server.fail_5xx = 2
    before = len(server.requests)
    clip = make_renderer(server).render(request_for(image), tmp_path / "c.mp4")
    assert frame_count(clip.path) == 12
    first_two = server.requests[before:before + 3]
    assert first_two[0] == first_two[1] == first_two[2] == ("POST", "/upload/image")


def test_long_scene_is_chained_from_the_last_frame(server, image, tmp_path):
    renderer = make_renderer(server, max_duration=1.0)
    before_p, before_u = len(server.prompts), len(server.uploads)
    clip = renderer.render(request_for(image, duration=2.5), tmp_path / "c.mp4")
    assert frame_count(clip.path) == 30
    prompts = server.prompts[before_p:]
    amounts = [p["prompt"]["5"]["inputs"]["amount"] for p in prompts]
    assert len(prompts) == 3 and amounts[0] + sum(a - 1 for a in amounts[1:]) == 30
    names = [u["name"] for u in server.uploads[before_u:]]
    assert [p["prompt"]["1"]["inputs"]["image"] for p in prompts] == names
    assert len(set(names)) == 3  # segments 2 and 3 start from new (last) frames


@pytest.mark.parametrize("limit", [1, 2])
def test_concurrency_limits_prompts_in_flight(server, tmp_path, limit):
    server.node_delay = 0.05
    renderer = make_renderer(server, concurrency=limit)
    images = [textured_image(tmp_path / f"scene_{i}.png", seed=next(_SEEDS)) for i in range(3)]
    errors: list[BaseException] = []

    def render(i: int) -> None:
        try:
            renderer.render(request_for(images[i], scene_number=i + 1, duration=0.5),
                            tmp_path / f"c{i}.mp4")
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=render, args=(i,)) for i in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert errors == []
    assert server.max_queue_depth == limit


def test_health_checks(server):
    make_renderer(server, "test_repeat").check()
    make_renderer(server, "svd_xt").check()  # the classes exist (the models do not)
    client = make_client(server.url)
    with pytest.raises(RenderFailed) as info:
        client.check_nodes({"LoadImage", "VHS_VideoCombine", "ADE_LoadAnimateDiffModel"},
                           "custom")
    assert "ADE_LoadAnimateDiffModel, VHS_VideoCombine" in info.value.message
    assert "'custom'" in info.value.message


# --------------------------------------------------- the server is faithful
def _session(server, graph_name: str, *, prepare=None) -> list[dict]:
    """Open a ws like the recorder did, POST the recorded graph, collect until idle."""
    from websockets.sync.client import connect

    client = make_client(server.url)
    client.upload_image((FIXTURES / "upload_input.png").read_bytes())  # ensure input exists
    server.call(lambda: server.inputs.__setitem__(
        "contract_input.png", (FIXTURES / "upload_input.png").read_bytes()))
    graph = json.loads((FIXTURES / f"{graph_name}.json").read_text())
    messages = []
    with connect(client.ws_url, proxy=None) as ws:
        messages.append(json.loads(ws.recv(timeout=5)))
        pid = "0000-" + graph_name
        client.queue_prompt(graph, pid)
        while True:
            raw = ws.recv(timeout=10)
            if isinstance(raw, bytes):
                continue
            message = json.loads(raw)
            messages.append(message)
            data = message["data"]
            if message["type"] == "executing" and data["node"] is None and \
                    data["prompt_id"] == pid:
                return messages


def _shape(messages: list[dict]) -> list[tuple]:
    shaped = []
    for m in messages:
        data = m["data"]
        if m["type"] == "progress_state":
            shaped.append((m["type"], tuple(sorted(
                (k, v["state"]) for k, v in data["nodes"].items()))))
        elif m["type"] == "executing":
            shaped.append((m["type"], data["node"]))
        else:
            shaped.append((m["type"], tuple(sorted(data))))
    return shaped


def test_server_replays_the_recorded_sequences(server):
    server.progress_steps = 0
    server.call(server._cache.clear)
    assert _shape(_session(server, "workflow_video_savevideo")) == _shape(
        recorded_messages("video_savevideo_success"))
    assert _shape(_session(server, "workflow_video_savevideo")) == _shape(
        recorded_messages("video_savevideo_cached_rerun"))
    assert _shape(_session(server, "workflow_execution_error_odd_size_h264")) == _shape(
        recorded_messages("execution_error"))


def test_server_upload_collisions_as_recorded(server):
    def upload(data: bytes, **form) -> dict:
        return httpx.post(server.url + "/upload/image", data={"type": "input", **form},
                          files={"image": ("collide.png", data, "image/png")}).json()

    assert upload(b"one", overwrite="true")["name"] == "collide.png"
    assert upload(b"one")["name"] == "collide.png"  # identical bytes: same name
    assert upload(b"two") == {"name": "collide (1).png", "subfolder": "", "type": "input"}
    assert httpx.post(server.url + "/upload/image", data={"type": "input"}).status_code == 400
    view = httpx.get(server.url + "/view", params={"filename": "nope.mp4", "subfolder": "video",
                                                   "type": "output"})
    assert view.status_code == 404 and view.content == b""


def test_server_without_client_id_sends_only_broadcasts(server):
    """As recorded: no client_id in the POST → sockets get only status and progress_state."""
    from websockets.sync.client import connect

    client = make_client(server.url)
    name = client.upload_image((FIXTURES / "upload_input.png").read_bytes())
    graph = load_template("test_repeat").bind({"image": name, "frames": 2,
                                               "width": 2 * next(_SEEDS), "height": 20})
    with connect(client.ws_url, proxy=None) as ws:
        ws.recv(timeout=5)
        pid = httpx.post(server.url + "/prompt", json={"prompt": graph}).json()["prompt_id"]
        kinds = set()
        while pid not in server.history:
            with contextlib.suppress(TimeoutError):
                raw = ws.recv(timeout=0.2)
                kinds.add(json.loads(raw)["type"])
        with contextlib.suppress(TimeoutError):
            while True:
                kinds.add(json.loads(ws.recv(timeout=0.2))["type"])
    assert kinds == {"status", "progress_state"}
    assert server.history[pid]["status"]["status_str"] == "success"


# ---------------------------------------------------------------- scheduling
def slow_conform(delay: float):
    """The real conform, after ``delay`` s of other work: a busy client (the old renderer
    let the server idle while its workers conformed)."""
    from videogen_adapters.ffmpeg.conform import conform_clip

    def conform(*args, **kwargs):
        time.sleep(delay)
        return conform_clip(*args, **kwargs)
    return conform


def runs_of(server: ComfyUITestServer, prompt_ids) -> list[dict]:
    """The server's own log of these prompts, in the order they executed."""
    ids = set(prompt_ids)
    return sorted((e for e in server.executions if e["prompt_id"] in ids),
                  key=lambda e: e["started"] or float("inf"))


def assert_queue_never_empty(runs: list[dict]) -> None:
    for before, after in itertools.pairwise(runs):
        assert after["queued"] < before["ended"], (
            f"prompt {after['prompt_id']} was queued {after['queued'] - before['ended']:.3f} s "
            "after the previous one finished: the server waited")


def render_all(renderer, jobs, *, workers: int = 2, cancel=None):
    """As the pipeline does: every clip to render_ahead, then ``workers`` threads take them."""
    renderer.render_ahead(jobs, cancel=cancel)
    with ThreadPoolExecutor(workers) as pool:
        return list(pool.map(lambda job: renderer.render(*job, cancel=cancel), jobs))


def scene_jobs(tmp_path: Path, durations: list[float]) -> list[tuple[ClipRequest, Path]]:
    return [(request_for(textured_image(tmp_path / f"scene_{n}.png", seed=next(_SEEDS)),
                         scene_number=n, duration=d), tmp_path / "out" / f"{n}.mp4")
            for n, d in enumerate(durations, start=1)]


def test_the_queue_stays_one_prompt_ahead_while_the_client_conforms(server, tmp_path):
    server.execution_time = 1.0
    renderer = make_renderer(server, max_duration=1.0, conform=slow_conform(1.0))
    jobs = scene_jobs(tmp_path, [2.5, 1.0, 1.0, 1.0])  # scene 1: 3 chained segments
    clips = render_all(renderer, jobs)
    assert [frame_count(c.path) for c in clips] == [30, 12, 12, 12]
    sent = list(renderer.dispatches)
    assert len(sent) == 6
    runs = runs_of(server, [d.prompt_id for d in sent])
    assert [r["status"] for r in runs] == ["success"] * 6
    assert_queue_never_empty(runs)
    assert server.max_queue_depth == 2  # one executing + one waiting, never more
    # scene 1's segments ran in turn: each queued only after its predecessor finished
    chain = runs_of(server, [d.prompt_id for d in sent if d.scene_number == 1])
    assert [d.segment for d in sent if d.scene_number == 1] == [0, 1, 2]
    for before, after in itertools.pairwise(chain):
        assert after["queued"] > before["ended"]
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [
        "1.mp4", "2.mp4", "3.mp4", "4.mp4"]  # no work files left


@pytest.fixture
def second_server():
    with ComfyUITestServer() as running:
        yield running


def test_two_servers_share_the_scenes_and_a_scene_stays_on_one(server, second_server, tmp_path):
    servers = [server, second_server]
    for s in servers:
        s.execution_time = 1.0  # scenes 2 and 3 are placed long before scene 1 is done
    renderer = ComfyUIClipRenderer([make_client(s.url) for s in servers], load_template(FLIP),
                                   max_duration=1.0)
    jobs = scene_jobs(tmp_path, [2.5, 1.0, 1.0, 1.0, 1.0])
    clips = render_all(renderer, jobs)
    assert [frame_count(c.path) for c in clips] == [30, 12, 12, 12, 12]
    sent = list(renderer.dispatches)
    assert len(sent) == 7
    placed = {n: {d.server for d in sent if d.scene_number == n} for n in range(1, 6)}
    assert all(len(where) == 1 for where in placed.values()), placed
    assert {next(iter(where)) for where in placed.values()} == {0, 1}  # both got scenes
    for index, s in enumerate(servers):  # each server ran exactly the prompts sent to it
        ours = {d.prompt_id for d in sent if d.server == index}
        assert {e["prompt_id"] for e in s.executions} & {d.prompt_id for d in sent} == ours
        assert s.max_queue_depth <= 2
    # placed in order, the 3-segment scene counts as 3 prompts of load: the next two
    # scenes go to the other server, though it is then as busy as the first one
    assert placed[1] == {0} and placed[2] == placed[3] == {1}


def test_cancel_deletes_the_waiting_prompt_and_interrupts_the_running_one(server, tmp_path):
    server.execution_time = 5.0
    renderer = make_renderer(server)
    jobs = scene_jobs(tmp_path, [1.0, 1.0, 1.0])
    token = CancelToken()
    renderer.render_ahead(jobs, cancel=token)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:  # until one of ours runs and one waits on the server
        ours = runs_of(server, [d.prompt_id for d in renderer.dispatches])
        if len(ours) == 2 and any(e["started"] for e in ours):
            break
        time.sleep(0.02)
    token.cancel()
    for job in jobs:
        with pytest.raises(Cancelled):
            renderer.render(*job, cancel=token)
    sent = [d.prompt_id for d in renderer.dispatches]
    assert len(sent) == 2  # the third scene never reached the server
    running, waiting = runs_of(server, sent)
    assert running["prompt_id"] in server.interrupts and running["status"] == "error"
    assert waiting["prompt_id"] in server.deletes and waiting["status"] == "deleted"
    assert server.queue_snapshot() == {"queue_running": [], "queue_pending": []}
    assert not (tmp_path / "out").exists() or list((tmp_path / "out").iterdir()) == []


def test_pipeline_keeps_the_server_queue_ahead(server, tmp_path):
    from videogen_adapters.executors import ThreadPoolExecutorAdapter
    from videogen_adapters.ffmpeg.muxer import FfmpegMuxer
    from videogen_adapters.storage.memory import InMemoryStorage
    from videogen_adapters.tts.chain import SilentNarrator
    from videogen_core import GenerationParams, Scene, Sequence
    from videogen_core.pipeline import VideoPipeline

    server.execution_time = 1.0
    storage = InMemoryStorage({
        f"f/scene_{n}.png": textured_image(tmp_path / f"{n}.png", seed=next(_SEEDS)).read_bytes()
        for n in range(1, 5)})
    renderer = make_renderer(server, conform=slow_conform(1.0))
    pipeline = VideoPipeline(storage=storage, renderer=renderer, narrator=SilentNarrator(),
                             music=None, muxer=FfmpegMuxer(),
                             executor=ThreadPoolExecutorAdapter(2), video=SMALL,
                             workdir=tmp_path / "work")
    sequence = Sequence([Scene(n, "", 1.0, "zoom in") for n in range(1, 5)],
                        GenerationParams(transition_type="none", seed=3, fps=12))
    result = pipeline.run("f", sequence)
    assert result.scenes == 4 and abs(result.duration - 4.0) < 0.1
    runs = runs_of(server, [d.prompt_id for d in renderer.dispatches])
    assert len(runs) == 4
    assert_queue_never_empty(runs)


def test_a_scene_goes_to_another_server_when_its_server_is_down(server, tmp_path):
    down = ComfyUITestServer().start()
    url = down.url
    down.stop()  # the port is now closed
    renderer = ComfyUIClipRenderer([make_client(url, retries=1), make_client(server.url)],
                                   load_template(FLIP))
    clips = render_all(renderer, scene_jobs(tmp_path, [1.0, 1.0, 1.0]))
    assert [frame_count(c.path) for c in clips] == [12, 12, 12]
    assert {d.server for d in renderer.dispatches} == {1}
    assert {e["prompt_id"] for e in server.executions} >= {
        d.prompt_id for d in renderer.dispatches}


def test_every_server_down_is_service_unavailable(tmp_path):
    urls = []
    for _ in range(2):
        down = ComfyUITestServer().start()
        urls.append(down.url)
        down.stop()
    renderer = ComfyUIClipRenderer([make_client(u, retries=1) for u in urls],
                                   load_template(FLIP))
    [(request, output)] = scene_jobs(tmp_path, [1.0])
    with pytest.raises(ServiceUnavailable, match="cannot connect"):
        renderer.render(request, output)

"""The service as a real process: ``videogen serve`` on 127.0.0.1 with the real
default adapters (Ken Burns, Piper, synthesised music, ffmpeg muxer).

Uploads images, posts the seed's body in async mode, follows the job's
Server-Sent Events to the end, downloads the video through its URL and
checks it with PyAV. Small settings keep it fast (320x180, ultrafast).
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
from PIL import Image
from tests.servers import videogen_command, videogen_serve

pytestmark = [pytest.mark.server, pytest.mark.slow]

TOKEN = "process-test-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
BODY: dict[str, Any] = {
    "sequence_data": [
        {"scene_number": 1, "narration": "Morning light on the hills.", "duration": 2.5,
         "clip_action": "slow zoom in", "music_mood": "calm"},
        {"scene_number": 2, "narration": "A river winds below.", "duration": 2.5,
         "clip_action": "pan right", "music_mood": "calm"},
        {"scene_number": 3, "narration": "Night falls.", "duration": 2.5,
         "clip_action": "zoom out", "music_mood": "mysterious"},
    ],
    "generation_params": {"transition_type": "crossfade", "seed": 7, "fps": 24},
}


def photo_png(seed: int, size: tuple[int, int] = (480, 270)) -> bytes:
    """A photographic-ish picture: sky gradient, a noisy horizon, textured ground."""
    rng = np.random.default_rng(seed)
    w, h = size
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    y, x = yy / h, xx / w
    horizon = 0.55 + 0.08 * np.sin(2 * np.pi * (x * (1 + seed) + rng.random()))
    sky = np.stack([0.3 + 0.5 * y, 0.5 + 0.3 * y, 0.9 - 0.2 * y], -1)
    ground = np.stack([0.2 + 0.1 * x, 0.45 - 0.2 * y, 0.15 + 0.1 * np.sin(9 * x)], -1)
    img = np.where((y > horizon)[..., None], ground, sky)
    img = img + rng.normal(0, 0.04, img.shape)
    out = io.BytesIO()
    Image.fromarray((np.clip(img, 0, 1) * 255).astype(np.uint8)).save(out, format="PNG")
    return out.getvalue()


def command() -> list[str]:
    """``videogen serve`` of this virtualenv (the fault tests start their own)."""
    return videogen_command("serve")


@pytest.fixture
def server(tmp_path: Path) -> Iterator[str]:
    with videogen_serve(tmp_path, {
        "VIDEOGEN_DATA_DIR": str(tmp_path / "data"), "VIDEOGEN_API_TOKEN": TOKEN,
        "VIDEOGEN_WIDTH": "320", "VIDEOGEN_HEIGHT": "180", "VIDEOGEN_PRESET": "ultrafast",
        "VIDEOGEN_CRF": "23", "VIDEOGEN_THREADS": "4",
    }, grace=10) as running:
        yield running.url


def follow_events(client: httpx.Client, url: str, on_first: Any = None
                  ) -> list[tuple[str, dict[str, Any]]]:
    """Read a Server-Sent Events stream to its end: ``[(event, data)]``;
    ``on_first()`` runs as soon as the first event arrived."""
    events: list[tuple[str, dict[str, Any]]] = []
    name, data = "message", []
    with client.stream("GET", url, headers=AUTH, timeout=120) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        for line in response.iter_lines():
            if line == "":
                if data:
                    events.append((name, json.loads("\n".join(data))))
                    if len(events) == 1 and on_first is not None:
                        on_first()
                name, data = "message", []
            elif line.startswith("event: "):
                name = line[7:]
            elif line.startswith("data: "):
                data.append(line[6:])
    return events


def test_serve_upload_generate_follow_download(server: str, tmp_path: Path) -> None:
    import av

    with httpx.Client(base_url=server, timeout=30) as client:
        assert client.get("/readyz").status_code == 401
        ready = client.get("/readyz", headers=AUTH)
        assert ready.status_code == 200, ready.text
        files = [("images", (f"scene_{n}.png", photo_png(n), "image/png")) for n in (1, 2, 3)]
        up = client.post("/folders/hills/images", files=files, headers=AUTH)
        assert up.status_code == 201, up.text
        assert up.json()["count"] == 3

        accepted = client.post("/generateVideos/hills", json=BODY,
                               headers={**AUTH, "Prefer": "respond-async"})
        assert accepted.status_code == 202, accepted.text
        job_id = accepted.json()["job_id"]
        live: list[str] = []

        def still_running() -> None:  # events arrive while the job runs, not buffered
            live.append(client.get(f"/jobs/{job_id}", headers=AUTH).json()["status"])

        events = follow_events(client, f"/jobs/{job_id}/events", still_running)
        assert live and live[0] in ("queued", "running"), live
        assert events[-1] == ("end", {"status": "succeeded"}), events[-3:]
        snapshots = [d for n, d in events if n == "message"]
        assert len(snapshots) >= 3  # queued/running progress, then the end state
        assert [s["percent"] for s in snapshots] == sorted(s["percent"] for s in snapshots)
        assert "render" in {s["stage"] for s in snapshots}  # rendering takes seconds here
        result = snapshots[-1]["result"]
        assert result["success"] is True and result["metadata"]["scenes"] == 3

        video_url = result["video_url"]
        assert video_url.startswith(f"{server}/media/hills/videos/")
        video = client.get(video_url, headers=AUTH)
        assert video.status_code == 200
        assert video.headers["content-type"] == "video/mp4"
        part = client.get(video_url, headers={**AUTH, "Range": "bytes=0-99"})
        assert part.status_code == 206 and part.content == video.content[:100]

    path = tmp_path / "downloaded.mp4"
    path.write_bytes(video.content)
    with av.open(str(path)) as container:
        kinds = {s.type for s in container.streams}
        assert {"video", "audio"} <= kinds
        vstream = container.streams.video[0]
        assert (vstream.codec_context.width, vstream.codec_context.height) == (320, 180)
        duration = container.duration / 1_000_000
    expected = result["metadata"]["duration"]
    assert abs(duration - expected) < 0.1, (duration, expected)
    assert abs(expected - (7.5 - 2 * 0.5)) < 0.5  # three 2.5 s scenes, two crossfades

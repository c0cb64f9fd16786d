"""Peak memory of large-but-allowed images on the upload and render paths (issue 12.5).

Each image is handled in a fresh child process that reports how far its peak
RSS (``ru_maxrss``) rose over a warmed-up baseline. Before the bounded decoder
a 9400x9400 16-bit PNG of ~1 MB took +2.2 GB on the render path. The bound
(+300 MB) is a memory figure, not a time: it does not depend on machine load.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image
from tests.image_corpus import LARGE, make_large
from tests.peak_memory import PEAK_MB

ROOT = Path(__file__).resolve().parents[3]
BOUND_MB = 300

CHILD = PEAK_MB + r"""
import io, json, sys
from pathlib import Path
from PIL import Image

from videogen_adapters.config import Settings
from videogen_adapters.ffmpeg.camera import plan_camera
from videogen_adapters.ffmpeg.kenburns import KenBurnsClipRenderer
from videogen_core.model import VideoSettings
from videogen_http import create_app

path, warm, data = Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3])
app = create_app(Settings(data_dir=data, storage="local", host="127.0.0.1", port=8000))
client = app.test_client()
renderer = KenBurnsClipRenderer()
settings = VideoSettings()
camera = plan_camera("slow zoom in", 7)

def upload(p, folder):
    with open(p, "rb") as fh:
        r = client.post(f"/folders/{folder}/images", data={"images": [(fh, p.name)]},
                        content_type="multipart/form-data")
    assert r.status_code == 201, r.get_json()

def render(p):
    planes = renderer.planes(p, camera, settings)
    return planes[0].size

upload(warm, "warm"); render(warm)
base = peak_mb()
upload(path, "big")
after_upload = peak_mb()
size = render(path)
after_render = peak_mb()
print(json.dumps({"upload_mb": after_upload - base,
                  "render_mb": after_render - base, "plane": size}))
"""


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return make_large(tmp_path_factory.mktemp("large"))


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(LARGE))
def test_large_images_stay_within_the_memory_bound(name: str, corpus: dict[str, Path],
                                                   tmp_path: Path) -> None:
    path = corpus[name]
    with Image.open(path) as im:  # header only: the image is under the pixel limit
        assert im.width * im.height <= Image.MAX_IMAGE_PIXELS
    warm = tmp_path / "warm.png"
    Image.new("RGB", (64, 48), (1, 2, 3)).save(warm)
    env = {**os.environ, "PYTHONPATH": f"{ROOT / 'src'}{os.pathsep}{ROOT}"}
    proc = subprocess.run([sys.executable, "-c", CHILD, str(path), str(warm),
                           str(tmp_path / "data")], capture_output=True, text=True, env=env,
                          timeout=240)
    assert proc.returncode == 0, proc.stderr[-2000:]
    figures = json.loads(proc.stdout.strip().splitlines()[-1])
    assert figures["upload_mb"] < BOUND_MB, figures
    assert figures["render_mb"] < BOUND_MB, figures
    # the render path still got the resolution it needs (1024x576 cover)
    assert figures["plane"][0] >= 1024 and figures["plane"][1] >= 576
    assert (tmp_path / "data" / "big" / path.name).is_file()


COMFY_CHILD = r"""
import json, sys
from pathlib import Path
from videogen_adapters.comfyui.media import prepare_image
PEAK
path, warm = Path(sys.argv[1]), Path(sys.argv[2])
prepare_image(warm)
base = peak_mb()
data = prepare_image(path, 3)
print(json.dumps({"mb": peak_mb() - base, "bytes": len(data)}))
"""


@pytest.mark.slow
def test_the_generative_renderers_input_image_is_decoded_bounded(
        corpus: dict[str, Path], tmp_path: Path) -> None:
    """ComfyUI gets the scene image as PNG: it too goes through the bounded decoder."""
    warm = tmp_path / "warm.png"
    Image.new("RGB", (64, 48), (1, 2, 3)).save(warm)
    peak = CHILD[CHILD.index("def peak_mb"):CHILD.index("from videogen_adapters.config")]
    env = {**os.environ, "PYTHONPATH": f"{ROOT / 'src'}{os.pathsep}{ROOT}"}
    proc = subprocess.run(
        [sys.executable, "-c", "import resource\n" + COMFY_CHILD.replace("PEAK", peak),
         str(corpus["png_9400_gray16"]), str(warm)],
        capture_output=True, text=True, env=env, timeout=240)
    assert proc.returncode == 0, proc.stderr[-2000:]
    figures = json.loads(proc.stdout.strip().splitlines()[-1])
    assert figures["mb"] < BOUND_MB, figures
    assert figures["bytes"] > 0

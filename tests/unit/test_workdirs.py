"""Work dirs live under one owned root and are swept at start (issue 12.13).

A process dir is locked (flock) by its process for its lifetime: a sweep keeps
the dirs of live processes — here a real second process — and removes the dirs
of dead ones (SIGKILL), whatever they contained.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from videogen_adapters.config import Settings
from videogen_adapters.orchestrator import build_pipeline
from videogen_adapters.workdirs import (
    OWNER_FILE,
    process_work_dir,
    release_process_work_dir,
    sweep,
    work_root,
)

HOLDER = """
import sys, time
from pathlib import Path
from videogen_adapters.workdirs import process_work_dir
path = process_work_dir(Path(sys.argv[1]))
(path / "videogen-job").mkdir()
(path / "videogen-job" / "final.part.mp4").write_bytes(b"x" * 1000)
print(path, flush=True)
time.sleep(60)
"""


def start_holder(root: Path) -> tuple[subprocess.Popen[str], Path]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    proc = subprocess.Popen([sys.executable, "-c", HOLDER, str(root)], env=env,
                            stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    line = proc.stdout.readline().strip()
    assert line, "the holder process did not start"
    return proc, Path(line)


def test_the_root_is_a_dot_dir_of_the_data_dir_unless_configured(tmp_path: Path) -> None:
    assert work_root(Settings(data_dir=tmp_path)) == tmp_path / ".videogen" / "work"
    assert work_root(Settings(data_dir=tmp_path, work_dir=str(tmp_path / "w"))) == tmp_path / "w"
    assert Settings.from_env({"VIDEOGEN_WORK_DIR": "/srv/w"}).work_dir == "/srv/w"


def test_pipelines_work_under_this_process_dir(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data", storage="memory", narrator="silent",
                        music="none")
    pipeline = build_pipeline(settings)
    assert pipeline.workdir is not None
    assert pipeline.workdir.parent == tmp_path / "data" / ".videogen" / "work"
    assert (pipeline.workdir / OWNER_FILE).is_file()
    assert build_pipeline(settings).workdir == pipeline.workdir  # one per process and root
    release_process_work_dir()
    assert not pipeline.workdir.exists()
    assert list(tmp_path.iterdir()) == []  # the dirs made on the way went again


def test_sweep_keeps_live_processes_dirs_and_removes_dead_ones(tmp_path: Path) -> None:
    root = tmp_path / "work"
    live, live_dir = start_holder(root)
    dead, dead_dir = start_holder(root)
    try:
        mine = process_work_dir(root)
        stray = root / "videogen-old"  # an unowned leftover of an older version
        stray.mkdir()
        old = time.time() - 3600
        os.utime(stray, (old, old))
        young = root / "videogen-new"  # unowned but fresh: left for now
        young.mkdir()

        assert sweep(root) == [stray]  # every process alive: only the old stray goes
        os.kill(dead.pid, signal.SIGKILL)
        dead.wait(10)
        assert (dead_dir / "videogen-job" / "final.part.mp4").exists()
        assert sweep(root) == [dead_dir]
        assert not dead_dir.exists()
        assert live_dir.is_dir() and (live_dir / "videogen-job").is_dir()
        assert mine.is_dir() and young.is_dir()
        assert sweep(root, now=time.time() + 3600) == [young]
    finally:
        for proc in (live, dead):
            proc.kill()
            proc.wait(10)
        release_process_work_dir()
    assert sweep(root) == [live_dir]
    assert sorted(root.iterdir()) == []

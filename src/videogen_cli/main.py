"""The ``videogen`` command: render, demo, doctor, serve, worker.

Configuration comes from ``VIDEOGEN_*`` environment variables and a ``.env``
file in the working directory (see ``videogen doctor`` for every name and its
current value); command-line options win over both.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import shutil
import signal
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, ClassVar

from videogen_core.model import ASPECT_RATIOS, RESOLUTIONS

__all__ = ["main"]

log = logging.getLogger("videogen")

EPILOG_CONFIG = """\
configuration (environment or .env, prefix VIDEOGEN_):
  DATA_DIR   local storage root, images at <DATA_DIR>/<folder>/ (./videogen-data)
  WORK_DIR   jobs' temporary files (<DATA_DIR>/.videogen/work; swept at start)
  STORAGE    local | s3 | gcs | firebase | memory
  RENDERER   kenburns | comfyui        NARRATOR  piper | espeak | http | chain | silent
  MUSIC      synth | library | none    EXECUTOR  threads | celery
  WIDTH/HEIGHT/FPS/CRF/PRESET          output encoding (1024x576, 24, 5, medium)
run `videogen doctor` to see every setting and check each backend.
"""


#: Long-running services log plain lines: cheap under load (rich rendering costs
#: milliseconds a line) and one line per event in log files and journals.
PLAIN_LOG_COMMANDS = frozenset({"serve", "worker"})


def _setup_logging(verbose: int, quiet: bool, command: str | None = None) -> None:
    level = logging.WARNING if quiet else (logging.DEBUG if verbose > 1 else logging.INFO)
    if command in PLAIN_LOG_COMMANDS:
        logging.basicConfig(level=level, stream=sys.stderr, force=True,
                            format="%(asctime)s %(levelname)s %(name)s: %(message)s")
        if verbose < 2:
            for noisy in ("httpx", "botocore", "urllib3", "waitress"):
                logging.getLogger(noisy).setLevel(logging.WARNING)
        return
    try:
        from rich.console import Console
        from rich.logging import RichHandler

        # logs go to stderr, so `--json` output on stdout stays machine-readable
        handler: logging.Handler = RichHandler(console=Console(stderr=True), show_path=False,
                                               rich_tracebacks=False, markup=False)
        fmt = "%(message)s"
    except ImportError:  # pragma: no cover - rich is a dependency
        handler, fmt = logging.StreamHandler(), "%(levelname)s %(name)s: %(message)s"
    logging.basicConfig(level=level, format=fmt, handlers=[handler], force=True)
    if verbose < 2:
        for noisy in ("httpx", "botocore", "urllib3", "waitress"):
            logging.getLogger(noisy).setLevel(logging.WARNING)


def _settings(args: argparse.Namespace, **extra: Any) -> Any:
    from videogen_adapters.config import Settings

    overrides = {k: v for k, v in extra.items() if v is not None}
    if getattr(args, "data_dir", None):
        overrides["data_dir"] = Path(args.data_dir)
    return Settings.from_env(**overrides)


# ----------------------------------------------------------------- progress
class _RichProgress:
    """Progress bars per stage with an ETA, fed by the pipeline's events."""

    LABELS: ClassVar[dict[str, str]] = {
        "validate": "Validate", "fetch": "Fetch images", "narrate": "Narrate",
        "render": "Render clips", "music": "Compose music", "mux": "Mix & join", "store": "Store",
    }

    def __init__(self, enabled: bool, scenes: int = 0) -> None:
        self.enabled = enabled
        self.scenes = scenes
        self.tasks: dict[str, Any] = {}
        self.progress: Any = None
        self.fold: Any = None

    def __enter__(self) -> _RichProgress:
        if self.enabled:
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TextColumn,
                TimeElapsedColumn,
                TimeRemainingColumn,
            )

            self.progress = Progress(
                TextColumn("[bold]{task.description:<14}"), BarColumn(), MofNCompleteColumn(),
                TextColumn("{task.percentage:>3.0f}%"), TimeElapsedColumn(),
                TextColumn("ETA"), TimeRemainingColumn(), transient=False)
            self.progress.__enter__()
            self.overall = self.progress.add_task("Overall", total=100)
        return self

    def __exit__(self, *exc: object) -> None:
        if self.progress is not None:
            self.progress.__exit__(*exc)

    def label(self, event: Any) -> str:
        """The bar's label; the render bar names the scenes done, as the job API does
        (``scenes_done``), while a streamed render's bar counts frames."""
        label = self.LABELS.get(event.stage, event.stage)
        if event.stage == "render" and self.fold is not None:
            done = self.fold.scenes_done
            label = f"Render {done}/{self.scenes} scenes"
            if self.fold.frames_total:
                label += " (frames)"
        return label

    def __call__(self, event: Any) -> None:
        if self.progress is None:
            return
        if self.fold is None:
            from videogen_core import JobProgress

            self.fold = JobProgress(self.scenes)
        self.fold.fold(event)
        stage = event.stage
        if stage not in self.tasks:
            self.tasks[stage] = self.progress.add_task(self.label(event),
                                                       total=max(event.total, 1))
        self.progress.update(self.tasks[stage], completed=event.done,
                             total=max(event.total, 1), description=self.label(event))
        self.progress.update(self.overall, completed=event.percent)


def _location(result: Any, storage: Any, output: Path | None) -> str:
    """Where the finished video is: the ``-o`` copy, else its local file, else its URL."""
    if output is not None:
        return str(output.resolve())
    path = _local_path(storage, result.video_key)
    return str(path.resolve()) if path is not None else str(result.video_url)


def _summary(result: Any, output: Path | None) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    table = Table(title="videogen: done", show_header=False)
    table.add_row("video", result.video_url)
    if output is not None:
        table.add_row("copied to", str(output))
    table.add_row("duration", f"{result.duration:.2f} s, {result.scenes} scenes")
    table.add_row("size", f"{result.size_bytes / 1e6:.2f} MB")
    if result.loudness_lufs is not None:
        table.add_row("loudness", f"{result.loudness_lufs:.1f} LUFS")
    for kind, url in result.subtitles.items():
        table.add_row(f"captions ({kind})", url)
    table.add_row("wall time", f"{result.elapsed_seconds:.1f} s ({result.render_mode})")
    for warning in result.warnings:
        table.add_row("[yellow]warning", warning)
    console.print(table)


# ------------------------------------------------------------------ commands
def _render(args: argparse.Namespace, sequence_data: dict[str, Any] | None = None) -> int:
    from videogen_adapters.orchestrator import build_pipeline, generate
    from videogen_adapters.storage import LocalDiskStorage
    from videogen_adapters.storage.local import locate_folder
    from videogen_core import VideogenError

    settings = _settings(args, width=args.width, height=args.height, preset=args.preset,
                         renderer=args.renderer, narrator=args.narrator,
                         render_mode=getattr(args, "render_mode", None),
                         burn_subtitles=True if args.burn_subtitles else None)
    if sequence_data is None:
        try:
            sequence_data = json.loads(Path(args.sequence).read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            print(f"error: cannot read the sequence file {args.sequence}: {exc}",
                  file=sys.stderr)
            return 2
    formats = {"aspect_ratio": getattr(args, "aspect", None),
               "resolution": getattr(args, "resolution", None)}
    formats = {k: v for k, v in formats.items() if v is not None}
    if formats and isinstance(sequence_data, dict):  # the options win over the file
        params = sequence_data.get("generation_params")
        params = dict(params) if isinstance(params, dict) else {}
        sequence_data = {**sequence_data, "generation_params": {**params, **formats}}
    storage = None
    from videogen_adapters.workdirs import sweep, work_root

    sweep(work_root(settings))  # what killed runs left behind (live processes' dirs stay)
    try:
        # a folder path outside the data dir: its parent becomes the storage root
        root, folder = locate_folder(args.folder, settings.data_dir)
        if root is not None and settings.storage == "local":
            storage = LocalDiskStorage(root)
        pipeline = build_pipeline(settings, storage=storage)
        scenes = sequence_data.get("sequence_data") if isinstance(sequence_data, dict) else None
        with _RichProgress(not args.no_progress,
                           len(scenes) if isinstance(scenes, list) else 0) as bars:
            result = generate(folder, sequence_data, pipeline=pipeline, progress=bars)
    except VideogenError as exc:
        print(f"error [{exc.code}]: {exc.message}", file=sys.stderr)
        if exc.code == "not_found" and "looked_for" in exc.details and (
                settings.storage == "local" and "folder_id" in exc.details):
            local_root = storage.root if storage is not None else settings.data_dir.resolve()
            print(f"  (on this machine: {local_root / exc.details['folder_id']})",
                  file=sys.stderr)
        return 1
    output = None
    if args.output:
        key_path = _local_path(pipeline.storage, result.video_key)
        if key_path is not None:
            output = Path(args.output)
            output.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(key_path, output)
        else:
            output = Path(args.output)
            pipeline.storage.fetch(result.video_key, output)
    if args.json:
        from videogen_adapters.converter import result_to_response

        print(json.dumps(result_to_response(result), indent=2))
    else:
        _summary(result, output)
        # whole, on its own (last) line, whatever the terminal width: the table above
        # is cut to the width of a pipe or a narrow terminal
        args.location = _location(result, pipeline.storage, output)
        if not getattr(args, "defer_location", False):
            print(f"video: {args.location}", flush=True)
    return 0


def _local_path(storage: Any, key: str) -> Path | None:
    path_for = getattr(storage, "path_for", None) or getattr(storage, "path", None)
    if path_for is None:
        return None
    try:
        path = Path(path_for(key))
    except Exception:  # noqa: BLE001 - not a local storage after all
        return None
    return path if path.exists() else None


def _demo(args: argparse.Namespace) -> int:
    from videogen_cli.demo import DEMO_SEQUENCE, write_demo_folder

    settings = _settings(args)
    folder = settings.data_dir / "demo"
    print(f"videogen demo: painting sample pictures into {folder} …")
    write_demo_folder(folder)
    args.folder = "demo"
    args.sequence = None
    args.defer_location = True
    started = time.monotonic()
    code = _render(args, sequence_data=DEMO_SEQUENCE)
    if code == 0 and not args.json:
        print(f"demo finished in {time.monotonic() - started:.1f} s; play the video:")
        print(f"video: {args.location}", flush=True)
    return code


def _doctor(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.table import Table

    from videogen_adapters.config import Settings
    from videogen_adapters.doctor import run_checks

    console = Console()
    try:
        settings = _settings(args)
    except Exception as exc:  # noqa: BLE001 - bad configuration is what doctor reports
        console.print(f"[red]configuration error:[/red] {exc}")
        return 1
    table = Table(title="configuration", show_header=True)
    table.add_column("variable")
    table.add_column("value")
    secret = ("KEY", "TOKEN", "SECRET", "CREDENTIALS")
    for name, _default in Settings.names():
        field = name.removeprefix("VIDEOGEN_").lower()
        value = str(getattr(settings, field))
        if any(s in name for s in secret) and value:
            value = "***"
        source = " (env)" if name in os.environ else ""
        table.add_row(name, value + source)
    console.print(table)
    checks = Table(title="backends", show_header=True)
    checks.add_column("check")
    checks.add_column("status")
    checks.add_column("detail")
    failed = 0
    for name, ok, detail in run_checks(settings):
        failed += not ok
        checks.add_row(name, "[green]ok" if ok else "[red]FAIL", detail)
    console.print(checks)
    return 1 if failed else 0


def _serve(args: argparse.Namespace) -> int:
    try:
        from videogen_http import serve
    except ImportError as exc:
        print(f"error: the HTTP service is not available: {exc}", file=sys.stderr)
        return 1
    settings = _settings(args)

    def _terminate(signum: int, frame: object) -> None:
        # SIGTERM (docker stop, systemd) as a clean exit: waitress stops, running
        # jobs stop (queued again for the next start) and this process's work dir
        # goes — the default action would skip all of that
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, _terminate)
    try:
        serve(settings, host=args.host, port=args.port, threads=args.threads)
    finally:
        from videogen_adapters.workdirs import release_process_work_dir
        from videogen_http.service import stop_all_jobs

        stop_all_jobs()  # before interpreter shutdown: thread pools still take work
        release_process_work_dir()
    return 0


def _worker(args: argparse.Namespace) -> int:
    try:
        from videogen_adapters.executors.celery import run_worker
    except ImportError:
        print("error: `videogen worker` needs the Celery executor "
              "(pip install 'videogen[celery]'); it is not available in this build.",
              file=sys.stderr)
        return 1
    run_worker(_settings(args), concurrency=args.concurrency, hostname=args.hostname,
               queues=args.queues)
    return 0


# -------------------------------------------------------------------- parser
def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every subcommand (kept separate for tests and docs)."""
    parser = argparse.ArgumentParser(
        prog="videogen",
        description="Turn a folder of still images plus a scene script into a finished, "
                    "narrated, scored video.",
        epilog=EPILOG_CONFIG, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-v", "--verbose", action="count", default=0,
                        help="more log output (-vv for debug)")
    parser.add_argument("-q", "--quiet", action="store_true", help="only warnings and errors")
    parser.add_argument("--data-dir", help="local storage root (VIDEOGEN_DATA_DIR)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    def add_render_options(p: argparse.ArgumentParser) -> None:
        p.add_argument("-o", "--output", help="also copy the finished video to this path")
        p.add_argument("--width", type=int, help="output width in pixels (VIDEOGEN_WIDTH)")
        p.add_argument("--height", type=int, help="output height in pixels (VIDEOGEN_HEIGHT)")
        p.add_argument("--preset", help="x264 preset, e.g. ultrafast…veryslow (VIDEOGEN_PRESET)")
        p.add_argument("--aspect", choices=list(ASPECT_RATIOS),
                       help="output aspect ratio (generation_params.aspect_ratio; default "
                            "16:9, or --width/--height when neither format option is given)")
        p.add_argument("--resolution", choices=list(RESOLUTIONS),
                       help="short side of the output (generation_params.resolution; "
                            "default 576p): 9:16 at 1080p is 1080x1920")
        p.add_argument("--renderer", choices=["kenburns", "comfyui"],
                       help="clip renderer (VIDEOGEN_RENDERER)")
        p.add_argument("--render-mode", choices=["auto", "stream", "chunked"],
                       help="one encoder, or cached chunks joined by stream copy "
                            "(VIDEOGEN_RENDER_MODE, auto)")
        p.add_argument("--narrator", choices=["piper", "espeak", "http", "chain", "silent"],
                       help="text-to-speech provider (VIDEOGEN_NARRATOR)")
        p.add_argument("--burn-subtitles", action="store_true",
                       help="burn captions into the picture (soft subtitles are always added)")
        p.add_argument("--no-progress", action="store_true", help="no progress bars")
        p.add_argument("--json", action="store_true",
                       help="print the seed's JSON response instead of a summary")

    render = sub.add_parser(
        "render", help="render a folder of images with a sequence file",
        description="Render FOLDER_OR_ID (a folder id under the data dir, or a path to a folder "
                    "of images) with the scene script in --sequence (the seed's JSON body: "
                    "sequence_data + generation_params). Scene N takes the image whose name "
                    "ends in N (scene_3.png, 003.jpg), else the N-th image in natural order.",
        formatter_class=argparse.RawDescriptionHelpFormatter, epilog=EPILOG_CONFIG)
    render.add_argument("folder", metavar="FOLDER_OR_ID", help="folder id or folder path")
    render.add_argument("-s", "--sequence", required=True, help="the sequence JSON file")
    add_render_options(render)
    render.set_defaults(func=_render)

    demo = sub.add_parser(
        "demo", help="make and render the demo job (no servers, no keys)",
        description="Paint four sample pictures into <data-dir>/demo, write a sample script "
                    "with narration and moods, and render it with the embedded defaults "
                    "(Ken Burns, Piper voice, synthesised music, local disk).")
    add_render_options(demo)
    demo.set_defaults(func=_demo)

    doctor = sub.add_parser("doctor", help="show configuration and check every backend",
                            description="Print every VIDEOGEN_* setting and check that each "
                                        "configured backend answers (ffmpeg, voice, storage, "
                                        "ComfyUI, broker).")
    doctor.set_defaults(func=_doctor)

    serve = sub.add_parser("serve", help="run the HTTP API on a production WSGI server",
                           description="Serve POST /generateVideos/<folder_id> and the job API "
                                       "with waitress.")
    serve.add_argument("--host", help="interface to bind (VIDEOGEN_HOST, 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port (VIDEOGEN_PORT, 8000)")
    serve.add_argument("--threads", type=int, help="request threads (VIDEOGEN_THREADS, 8)")
    serve.set_defaults(func=_serve)

    worker = sub.add_parser("worker", help="run a scale-out worker (Celery)",
                            description="Consume render jobs from VIDEOGEN_BROKER_URL.")
    worker.add_argument("--concurrency", type=int, default=1, help="jobs at once")
    worker.add_argument("-n", "--hostname",
                        help="the worker's node name, as Celery's --hostname (%%h = host "
                             "name); default videogen-<pid>@<host>")
    worker.add_argument("-Q", "--queues",
                        help="comma-separated queues to consume (default: videogen, where "
                             "the API servers publish render jobs)")
    worker.set_defaults(func=_worker)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``videogen`` console script."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    _setup_logging(args.verbose, args.quiet, args.command)
    try:
        return int(args.func(args))
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # noqa: BLE001 - a command prints a reason, not a stack trace
        from videogen_core import VideogenError

        if isinstance(exc, VideogenError):
            print(f"error [{exc.code}]: {exc.message}", file=sys.stderr)
            return 1
        log.debug("unexpected failure", exc_info=True)
        print(f"error: {type(exc).__name__}: {exc} (run with -vv for details)", file=sys.stderr)
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

"""Reference-job benchmark of the FFmpeg media layer (not a test).

The job: 5 photographs of different sizes (scikit-image's samples), scenes of
5/4/6/3/5 s, 0.5 s crossfades, a narration per scene (Piper) and a music bed
(the procedural synthesiser) — numpy stand-ins when those adapters are
missing — at 1024x576, 24 fps, H.264 crf 5, preset medium.

The contenders do the same job from the same prepared inputs, each in its
own process so wall time and memory are measured alike:

* project (``--workers 0``, the default path) — Ken Burns frame sources
  streamed into ONE encoder by FfmpegMuxer; ``--workers N`` — clip files
  rendered N at a time, then decoded into that one encoder (the way generative
  clips enter);
* (a) one single ffmpeg command: zoompan + xfade + adelay/amix +
  sidechaincompress + loudnorm (``--single-threads`` adds it with the
  project's x264 thread count);
* (b) MoviePy 2 (resize-per-frame zoom, CrossFadeIn, CompositeAudioClip).

``--rounds N`` runs everything N times in alternating order and reports
medians of per-round ratios (this VM's speed drifts). ``BENCH_THREADS=n``
overrides the project's x264 threads (experiments).

Peak memory is the largest sum of RSS over the contender's process tree
(sampled every 20 ms with psutil), plus the largest single child from
``getrusage(RUSAGE_CHILDREN)``. Then the project runs the job 8x longer
(40 scenes) to show that memory stays flat.

    .venv/bin/python benchmarks/bench_reference_job.py            # everything
    .venv/bin/python benchmarks/bench_reference_job.py --skip-long --skip-moviepy
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

DURATIONS = (5.0, 4.0, 6.0, 3.0, 5.0)
ACTIONS = ("zoom in", "pan right", "zoom out, pan left", "tilt up", "slow zoom in")
TEXTS = (
    "An astronaut poses beside the flag, far from home.",
    "Morning coffee, still warm, waits on the table.",
    "The cat watches the garden with quiet suspicion.",
    "A rocket stands ready on the launch pad.",
    "The motorcycle gleams in the afternoon sun.",
)
IMAGES = ("astronaut", "coffee", "chelsea", "rocket", "motorcycle")
XFADE = 0.5
W, H, FPS, CRF, PRESET = 1024, 576, 24, 5, "medium"


# ------------------------------------------------------------------- inputs
def prepare(work: Path) -> dict[str, object]:
    """Write the images, narrations and music bed the contenders share."""
    import numpy as np
    import skimage.data
    from PIL import Image

    images = []
    for name in IMAGES:
        path = work / f"{name}.jpg"
        if name == "motorcycle":  # the left view of the stereo pair, 741x500
            pixels = skimage.data.stereo_motorcycle()[0]
        else:
            pixels = getattr(skimage.data, name)()
        Image.fromarray(pixels).convert("RGB").save(path, quality=95)
        images.append(str(path))
    voices = []
    try:
        from videogen_adapters.tts import PiperNarrator

        narrator = PiperNarrator()
        for i, text in enumerate(TEXTS):
            n = narrator.synthesize(text, work / f"voice_{i}.wav")
            voices.append((str(n.path), n.duration))
        voice_source = "piper"
    except Exception as exc:  # noqa: BLE001 - fall back to a synthetic voice
        print(f"(Piper unavailable: {exc}; using a synthetic voice)")
        voice_source = "numpy"
        rate = 22050
        for i in range(len(TEXTS)):
            t = np.arange(int(2.8 * rate)) / rate
            sig = np.sin(2 * np.pi * 150 * t) * np.clip(np.sin(2 * np.pi * 5 * t), 0, 1) * 0.2
            path = work / f"voice_{i}.wav"
            _write_wav(path, sig, rate)
            voices.append((str(path), 2.8))
    long_total = 8 * sum(DURATIONS) - (8 * len(DURATIONS) - 1) * XFADE
    music = {}
    for label, seconds in (("short", sum(DURATIONS)), ("long", long_total + 1)):
        path = work / f"music_{label}.wav"
        try:
            from videogen_adapters.music import SynthMusicSource

            SynthMusicSource().compose("calm", seconds, path, seed=1)
            music_source = "synth"
        except Exception as exc:  # noqa: BLE001
            print(f"(music synthesiser unavailable: {exc}; using a numpy pad)")
            music_source = "numpy"
            rate = 44100
            t = np.arange(int(seconds * rate)) / rate
            _write_wav(path, 0.15 * (np.sin(2 * np.pi * 220 * t) + np.sin(2 * np.pi * 330 * t)),
                       rate)
        music[label] = str(path)
    return {"images": images, "voices": voices, "music": music,
            "voice_source": voice_source, "music_source": music_source}


def _write_wav(path: Path, signal, rate: int) -> None:
    import wave

    import numpy as np

    data = (np.clip(signal, -1, 1) * 32767).astype(np.int16)
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(data.tobytes())


def scenes(inputs: dict, repeat: int) -> tuple[list[str], list[float], list[str], list]:
    n = len(DURATIONS) * repeat
    idx = [i % len(DURATIONS) for i in range(n)]
    return ([inputs["images"][i] for i in idx], [DURATIONS[i] for i in idx],
            [ACTIONS[i] for i in idx], [inputs["voices"][i] for i in idx])


# ----------------------------------------------------------------- contenders
def run_project(inputs: dict, out: Path, repeat: int, workers: int = 0) -> None:
    """The project as the pipeline runs it. ``workers=0``: the default streamed path
    (Ken Burns frame sources → one encoder); ``workers=N``: clip files rendered N at
    a time, then decoded into the muxer's one encode (the way generative clips enter)."""
    from videogen_adapters.executors import ThreadPoolExecutorAdapter
    from videogen_adapters.ffmpeg import FfmpegMuxer, KenBurnsClipRenderer
    from videogen_core.model import VideoSettings
    from videogen_core.ports import ClipRequest, MusicPlacement, MuxPlan, NarrationPlacement
    from videogen_core.timeline import Timeline

    images, durations, actions, voices = scenes(inputs, repeat)
    timeline = Timeline.build(durations, "crossfade", XFADE)
    narrations = tuple(NarrationPlacement(Path(v[0]), s, v[1])
                       for v, s in zip(voices, timeline.narration_starts, strict=True))
    music = (MusicPlacement(Path(inputs["music"]["long" if repeat > 1 else "short"]), 0.0,
                            timeline.total, "calm"),)
    if workers == 0:
        threads = int(os.environ.get("BENCH_THREADS", "0"))
        settings = VideoSettings(W, H, FPS, crf=CRF, preset=PRESET, threads=threads)
        counts = timeline.frame_counts(FPS)
        renderer = KenBurnsClipRenderer()
        sources = tuple(renderer.stream(ClipRequest(Path(images[i]), durations[i], actions[i], i,
                                                    settings=settings, frame_count=counts[i]))
                        for i in range(len(images)))
        result = FfmpegMuxer().mux(MuxPlan(timeline, sources, narrations, music,
                                           video=settings), out)
        print(json.dumps({"loudness": result.loudness_lufs, "true_peak": result.true_peak_db}))
        return

    # as the orchestrator does (VIDEOGEN_ENCODER_THREADS=-1): cores ÷ parallel encoders
    threads = max(1, (os.cpu_count() or 1) // workers) if workers > 1 else 0
    settings = VideoSettings(W, H, FPS, crf=CRF, preset=PRESET, threads=threads)
    counts = timeline.frame_counts(FPS)
    executor = ThreadPoolExecutorAdapter(workers)
    renderer = KenBurnsClipRenderer()
    jobs = {}
    # longest clips first: the workers finish together (no lone encoder at the end)
    for i in sorted(range(len(images)), key=lambda k: -counts[k]):
        request = ClipRequest(Path(images[i]), durations[i], actions[i], i, settings=settings,
                              cut_frames=timeline.cut_frames(i, FPS), frame_count=counts[i])
        jobs[i] = executor.submit(renderer.render, request, out.parent / f"clip_{i}.mp4")
    clips = tuple(jobs[i].result().path for i in range(len(images)))
    result = FfmpegMuxer().mux(MuxPlan(timeline, clips, narrations, music, video=settings),
                               out, executor=executor)
    executor.shutdown()
    print(json.dumps({"loudness": result.loudness_lufs, "true_peak": result.true_peak_db}))


def _zoompan(action: str, frames: int) -> str:
    last = max(1, frames - 1)
    if action == "pan right":
        return f"z=1.136:x='(iw-iw/zoom)*on/{last}':y='(ih-ih/zoom)/2'"
    if action == "tilt up":
        return f"z=1.136:x='(iw-iw/zoom)/2':y='(ih-ih/zoom)*(1-on/{last})'"
    if action == "zoom out, pan left":
        return (f"z='1.36-0.2*on/{last}':x='(iw-iw/zoom)*(1-on/{last})'"
                ":y='(ih-ih/zoom)/2'")
    amount = 0.1 if action.startswith("slow") else 0.2
    return f"z='1+{amount}*on/{last}':x='(iw-iw/zoom)/2':y='(ih-ih/zoom)/2'"


def single_command(inputs: dict, out: Path, repeat: int, ffmpeg: str,
                   threads: int | None = None) -> list[str]:
    """One ffmpeg command doing the whole job (zoompan + xfade + amix + sidechain)."""
    from videogen_core.timeline import Timeline

    images, durations, actions, voices = scenes(inputs, repeat)
    timeline = Timeline.build(durations, "crossfade", XFADE)
    counts = timeline.frame_counts(FPS)
    args = [ffmpeg, "-hide_banner", "-nostdin", "-loglevel", "error", "-y"]
    chains = []
    for i, image in enumerate(images):
        args += ["-i", image]
        chains.append(f"[{i}:v]scale={W}:{H}:force_original_aspect_ratio=increase,"
                      f"crop={W}:{H},setsar=1,zoompan={_zoompan(actions[i], counts[i])}"
                      f":d={counts[i]}:s={W}x{H}:fps={FPS},format=yuv420p[v{i}]")
    label, offset = "[v0]", 0.0
    for i in range(1, len(images)):
        offset += counts[i - 1] / FPS - XFADE  # = the timeline's start of scene i
        chains.append(f"{label}[v{i}]xfade=transition=fade:duration={XFADE}:"
                      f"offset={offset:.4f}[x{i}]")
        label = f"[x{i}]"
    base = len(images)
    for i, (voice, start) in enumerate(zip(voices, timeline.narration_starts, strict=True)):
        args += ["-i", voice[0]]
        chains.append(f"[{base + i}:a]aresample=48000,adelay=delays={int(start * 1000)}:all=1"
                      f"[n{i}]")
    args += ["-i", inputs["music"]["long" if repeat > 1 else "short"]]
    music = base + len(voices)
    total = timeline.total
    chains.append("".join(f"[n{i}]" for i in range(len(voices)))
                  + f"amix=inputs={len(voices)}:normalize=0,apad=whole_dur={total}[speech]")
    chains.append("[speech]asplit=2[sp][key]")
    chains.append(f"[{music}:a]aresample=48000,atrim=duration={total},volume=-6dB,"
                  f"afade=t=in:d=1,afade=t=out:st={total - 1.5}:d=1.5[music]")
    chains.append("[music][key]sidechaincompress=threshold=0.00316:ratio=20:attack=15"
                  ":release=350[ducked]")
    chains.append(f"[sp][ducked]amix=inputs=2:normalize=0,loudnorm=I=-14:TP=-1.5,"
                  f"aresample=48000,atrim=duration={total}[mix]")
    args += ["-filter_complex", ";".join(chains), "-map", label, "-map", "[mix]",
             "-c:v", "libx264", "-preset", PRESET, "-crf", str(CRF), "-pix_fmt", "yuv420p",
             *(["-threads", str(threads)] if threads else []),
             "-c:a", "aac", "-b:a", "192k", "-movflags", "+faststart", str(out)]
    return args


def run_moviepy(inputs: dict, out: Path) -> None:
    from moviepy import AudioFileClip, CompositeAudioClip, CompositeVideoClip, ImageClip, afx, vfx

    from videogen_core.timeline import Timeline

    images, durations, actions, voices = scenes(inputs, 1)
    timeline = Timeline.build(durations, "crossfade", XFADE)
    layers = []
    for i, (image, duration) in enumerate(zip(images, durations, strict=True)):
        clip = ImageClip(image).with_duration(duration)
        scale = max(W / clip.w, H / clip.h)
        clip = clip.resized(scale)
        zoom_in = "out" not in actions[i]
        clip = clip.resized(lambda t, d=duration, z=zoom_in: 1 + 0.2 * (t / d if z else 1 - t / d))
        clip = clip.with_position("center").with_start(timeline.starts[i])
        if i:
            clip = clip.with_effects([vfx.CrossFadeIn(XFADE)])
        layers.append(clip)
    video = CompositeVideoClip(layers, size=(W, H)).with_duration(timeline.total)
    audio = [AudioFileClip(v[0]).with_start(s)
             for v, s in zip(voices, timeline.narration_starts, strict=True)]
    music = (AudioFileClip(inputs["music"]["short"]).with_duration(timeline.total)
             .with_effects([afx.MultiplyVolume(0.3), afx.AudioFadeIn(1.0),
                            afx.AudioFadeOut(1.5)]))
    video = video.with_audio(CompositeAudioClip([music, *audio]).with_duration(timeline.total))
    video.write_videofile(str(out), fps=FPS, codec="libx264", preset=PRESET,
                          ffmpeg_params=["-crf", str(CRF), "-pix_fmt", "yuv420p"],
                          audio_codec="aac", logger=None, threads=2)


def worker(kind: str, inputs_file: Path, out: Path, repeat: int, workers: int) -> None:
    inputs = json.loads(inputs_file.read_text())
    if kind == "project":
        run_project(inputs, out, repeat, workers)
    elif kind == "moviepy":
        run_moviepy(inputs, out)
    usage_self = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    usage_children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(json.dumps({"self_mb": usage_self, "largest_child_mb": usage_children}))


# ---------------------------------------------------------------- measuring
def measure(argv: list[str]) -> dict[str, float]:
    """Run ``argv``; wall time and the peak RSS summed over its process tree."""
    import psutil

    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    root = psutil.Process(proc.pid)
    peak = 0
    while proc.poll() is None:
        try:
            procs = [root, *root.children(recursive=True)]
            total = 0
            for p in procs:
                with contextlib.suppress(psutil.Error):
                    total += p.memory_info().rss
            peak = max(peak, total)
        except psutil.Error:
            pass
        time.sleep(0.02)
    wall = time.perf_counter() - start
    stdout, stderr = proc.communicate()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    if proc.returncode:
        raise SystemExit(f"{argv[:4]} failed:\n{stderr[-3000:]}")
    extra: dict[str, float] = {}
    for line in stdout.splitlines():
        if line.startswith("{"):
            extra.update(json.loads(line))
    return {"wall": wall, "cpu": cpu, "peak_tree_mb": peak / 2**20, **extra}


def describe(path: Path) -> str:
    from videogen_adapters.ffmpeg.probe import probe

    info = probe(path)
    return (f"{info.frames} frames, video {info.video_duration:.3f} s, "
            f"audio {info.audio_duration:.3f} s")


def encoder_floor(video: Path, ffmpeg: str, work: Path) -> dict[str, float]:
    """x264 alone on ``video``'s own frames (same settings): what encoding these exact
    pictures costs, whatever made them. x264 at crf 5 pays for every change between
    frames, so sub-pixel motion costs more bits and CPU than whole-pixel moves."""
    raw = work / "floor.yuv"
    subprocess.run([ffmpeg, "-v", "error", "-y", "-i", str(video), "-f", "rawvideo",
                    "-pix_fmt", "yuv420p", str(raw)], check=True)
    try:
        return measure([ffmpeg, "-v", "error", "-y", "-f", "rawvideo", "-pix_fmt", "yuv420p",
                        "-s", f"{W}x{H}", "-r", str(FPS), "-i", str(raw), "-c:v", "libx264",
                        "-preset", PRESET, "-crf", str(CRF), "-f", "mp4",
                        str(work / "floor.mp4")])
    finally:
        raw.unlink(missing_ok=True)


def pristine_floor(kind: str, inputs: dict, ffmpeg: str, work: Path) -> dict[str, float]:
    """x264 alone (same settings, the project's thread count) on the frames a
    contender makes BEFORE encoding: the project's composed frames, or the single
    command's filter-graph output. Re-encoding decoded output (:func:`encoder_floor`)
    also pays for the first encode's noise; this is the cost of the pictures alone."""
    from videogen_adapters.ffmpeg.commands import lone_encoder_threads

    raw = work / f"pristine_{kind}.yuv"
    if kind == "project":
        from videogen_adapters.ffmpeg import KenBurnsClipRenderer
        from videogen_adapters.ffmpeg.stream import composed_frames
        from videogen_core.model import VideoSettings
        from videogen_core.ports import ClipRequest
        from videogen_core.timeline import Timeline

        images, durations, actions, _ = scenes(inputs, 1)
        timeline = Timeline.build(durations, "crossfade", XFADE)
        settings = VideoSettings(W, H, FPS, crf=CRF, preset=PRESET)
        counts = timeline.frame_counts(FPS)
        renderer = KenBurnsClipRenderer()
        sources = [renderer.stream(ClipRequest(Path(images[i]), durations[i], actions[i], i,
                                               settings=settings, frame_count=counts[i]))
                   for i in range(len(images))]
        with raw.open("wb") as fh:
            for frame in composed_frames(sources, timeline, settings):
                fh.write(frame)
    else:
        argv = single_command(inputs, work / "unused.mp4", 1, ffmpeg)
        at = argv.index("-map")
        subprocess.run([*argv[:at], "-map", argv[at + 1], "-f", "rawvideo", "-pix_fmt",
                        "yuv420p", str(raw), "-map", "[mix]", "-f", "null", "-"], check=True)
    try:
        return measure([ffmpeg, "-v", "error", "-y", "-f", "rawvideo", "-pix_fmt", "yuv420p",
                        "-s", f"{W}x{H}", "-r", str(FPS), "-i", str(raw), "-c:v", "libx264",
                        "-preset", PRESET, "-crf", str(CRF),
                        "-threads", str(lone_encoder_threads()), "-f", "mp4",
                        str(work / "pristine.mp4")])
    finally:
        raw.unlink(missing_ok=True)


def pan_jitter(video: Path) -> float:
    """Max frame-to-frame shift deviation (px, half resolution) over the body of the
    "pan right" scene (scene 2): how much the motion shakes."""
    import av
    import numpy as np

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from tests.unit.ffmpeg.phase import half_resolution, phase_shift, shift_jitter

    first = round((DURATIONS[0] - XFADE) * FPS) + round(XFADE * FPS) + 2
    last = first + round((DURATIONS[1] - 2 * XFADE) * FPS) - 4
    frames = []
    with av.open(str(video)) as container:
        for i, frame in enumerate(container.decode(video=0)):
            if first <= i < last:
                frames.append(half_resolution(frame.to_ndarray(format="gray")))
            elif i >= last:
                break
    shifts = np.array([phase_shift(a, b)[0] for a, b in itertools.pairwise(frames)])
    return float(np.max(np.abs(shift_jitter(shifts))))


def label(workers: int) -> str:
    return "project" if workers == 0 else f"project clips w={workers}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--worker", choices=("project", "moviepy"))
    parser.add_argument("--inputs", type=Path)
    parser.add_argument("--out", type=Path)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--skip-moviepy", action="store_true")
    parser.add_argument("--skip-long", action="store_true")
    parser.add_argument("--skip-floor", action="store_true",
                        help="skip re-encoding every output's frames with x264 alone")
    parser.add_argument("--single-threads", action="store_true",
                        help="also run the single command with the project's x264 thread "
                             "count (a tuned comparator)")
    parser.add_argument("--rounds", type=int, default=1,
                        help="run every contender this many times (alternating order) and "
                             "report medians")
    parser.add_argument("--workdir", type=Path)
    parser.add_argument("--baseline", type=Path, default=None,
                        help="another checkout of videogen (e.g. `git worktree add --detach "
                             "../base <commit>`): its own worker runs the same job as one more "
                             "contender, so a change's cost is measured in the same run")
    parser.add_argument("--workers", type=int, nargs="+", default=[0],
                        help="project contenders: 0 = the default streamed path (one "
                             "encoder); N > 0 = clip files rendered N at a time, then "
                             "decoded into that encoder (how generative clips enter)")
    parser.add_argument("--long-workers", type=int, nargs="+",
                        help="worker counts for the 8x run (default: --workers)")
    args = parser.parse_args()
    if args.worker:
        worker(args.worker, args.inputs, args.out, args.repeat, args.workers[0])
        return

    from videogen_adapters.ffmpeg.runner import find_ffmpeg

    work = args.workdir or Path(tempfile.mkdtemp(prefix="videogen-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    print(f"work dir: {work}")
    inputs = prepare(work)
    inputs_file = work / "inputs.json"
    inputs_file.write_text(json.dumps(inputs))
    print(f"inputs: 5 photos {IMAGES}, narration: {inputs['voice_source']}, "
          f"music: {inputs['music_source']}; {W}x{H} {FPS} fps crf {CRF} {PRESET}")
    me = [sys.executable, str(Path(__file__).resolve())]
    results: dict[str, dict[str, float]] = {}

    runs: dict[str, list[dict[str, float]]] = {}

    def contender(name: str, argv: list[str], out: Path, tag: str = "") -> None:
        out.parent.mkdir(parents=True, exist_ok=True)
        r = measure(argv)
        runs.setdefault(name, []).append(r)
        results[name] = r
        print(f"{name + tag:>22}: {r['wall']:7.2f} s wall, {r['cpu']:6.1f} s CPU, "
              f"peak tree RSS {r['peak_tree_mb']:6.0f} MB"
              + (f"  (largest child {r['largest_child_mb']:.0f} MB)"
                 if "largest_child_mb" in r else "") + f"  — {describe(out)}")

    outs = {k: work / k / "final.mp4" for k in ("single", "moviepy")}
    jobs: list[tuple[str, list[str], Path]] = []
    for w in args.workers:
        name = label(w)
        outs[name] = work / f"project_w{w}" / "final.mp4"
        jobs.append((name, [*me, "--worker", "project", "--inputs", str(inputs_file), "--out",
                            str(outs[name]), "--workers", str(w)], outs[name]))
    if args.baseline is not None:
        base = args.baseline.resolve()
        outs["baseline"] = work / "baseline" / "final.mp4"
        jobs.append(("baseline", ["env", f"PYTHONPATH={base / 'src'}", sys.executable,
                                  str(base / "benchmarks" / Path(__file__).name), "--worker",
                                  "project", "--inputs", str(inputs_file), "--out",
                                  str(outs["baseline"]), "--workers", "0"], outs["baseline"]))
    jobs.append(("single ffmpeg", single_command(inputs, outs["single"], 1, find_ffmpeg()),
                 outs["single"]))
    if args.single_threads:
        # the comparator given the same x264 thread count as the project's lone encoder
        from videogen_adapters.ffmpeg.commands import lone_encoder_threads

        outs["single tuned"] = work / "single_tuned" / "final.mp4"
        jobs.append(("single tuned", single_command(inputs, outs["single tuned"], 1,
                                                    find_ffmpeg(),
                                                    threads=lone_encoder_threads()),
                     outs["single tuned"]))
    if not args.skip_moviepy:
        jobs.append(("moviepy", [*me, "--worker", "moviepy", "--inputs", str(inputs_file),
                                 "--out", str(outs["moviepy"])], outs["moviepy"]))
    # the VM's speed drifts: rounds alternate the order, and every ratio is the median
    # of per-round ratios (contenders of one round ran minutes apart at most)
    for k in range(args.rounds):
        for name, argv, out in (jobs if k % 2 == 0 else jobs[::-1]):
            contender(name, argv, out, f" #{k + 1}" if args.rounds > 1 else "")
    for name, rs in runs.items():
        results[name] = {key: statistics.median(r[key] for r in rs) for key in rs[0]}

    def ratios(a: str, b: str, key: str = "wall") -> list[float]:
        return [x[key] / y[key] for x, y in zip(runs[a], runs[b], strict=True)]

    def ratio(a: str, b: str, key: str = "wall") -> float:
        return statistics.median(ratios(a, b, key))

    def spread(a: str, b: str) -> str:
        """Per-round wall ratios and their geometric mean: with the order alternating,
        a steady drift of the VM's speed favours the second contender of a round by
        as much as it hurts it in the next, so the geometric mean cancels it."""
        rs = ratios(a, b)
        if len(rs) < 2:
            return ""
        return (f" [rounds {', '.join(f'{r:.2f}' for r in rs)}; geometric mean "
                f"{statistics.geometric_mean(rs):.3f}]")

    if args.rounds > 1:
        print(f"\nmedians of {args.rounds} rounds:")
        for name in runs:
            r = results[name]
            print(f"{name:>22}: {r['wall']:7.2f} s wall, {r['cpu']:6.1f} s CPU, "
                  f"peak tree RSS {r['peak_tree_mb']:6.0f} MB")
    print()
    for w in args.workers:
        p, name = results[label(w)], label(w)
        print(f"{name}: / single ffmpeg wall {ratio(name, 'single ffmpeg'):.2f}x (target <= "
              f"1.0x), CPU {ratio(name, 'single ffmpeg', 'cpu'):.2f}x; peak tree RSS "
              f"{p['peak_tree_mb']:.0f} MB (target <= 400 MB)"
              + spread(name, "single ffmpeg"))
        if "single tuned" in results:
            print(f"             / single ffmpeg with the same x264 threads: wall "
                  f"{ratio(name, 'single tuned'):.2f}x, CPU "
                  f"{ratio(name, 'single tuned', 'cpu'):.2f}x" + spread(name, "single tuned"))
        if "baseline" in results:
            print(f"             / baseline ({args.baseline}) wall "
                  f"{ratio(name, 'baseline'):.3f}x, CPU {ratio(name, 'baseline', 'cpu'):.3f}x"
                  + spread(name, "baseline"))
        if "moviepy" in results:
            print(f"             moviepy / project wall {ratio('moviepy', name):.2f}x "
                  f"(target >= 3x), CPU {ratio('moviepy', name, 'cpu'):.2f}x"
                  + spread("moviepy", name))
    if not args.skip_floor:
        print("\nx264 alone re-encoding each output's decoded frames, and pan jitter:")
        for name in [label(w) for w in args.workers] + ["single ffmpeg", "moviepy"]:
            if name not in results:
                continue
            out = outs[name] if name != "single ffmpeg" else outs["single"]
            floor = encoder_floor(out, find_ffmpeg(), work)
            r = results[name]
            print(f"{name:>16}: x264 alone {floor['wall']:6.2f} s wall {floor['cpu']:6.1f} s CPU"
                  f" -> whole job / floor: wall {r['wall'] / floor['wall']:.2f}x, CPU "
                  f"{r['cpu'] / floor['cpu']:.2f}x; pan jitter {pan_jitter(out):.4f} px")
        print("\nx264 alone on the frames each makes before encoding (same threads):")
        bounds = {}
        for kind, name in (("project", "project"), ("single", "single ffmpeg")):
            if name not in results:
                continue
            floor = pristine_floor(kind, inputs, find_ffmpeg(), work)
            bounds[kind] = floor
            r = results[name]
            print(f"{name:>16}: x264 alone {floor['wall']:6.2f} s wall {floor['cpu']:6.1f} s CPU"
                  f" -> whole job / floor: wall {r['wall'] / floor['wall']:.2f}x, CPU "
                  f"{r['cpu'] / floor['cpu']:.2f}x")
        if "project" in bounds and "moviepy" in results:
            print(f"  moviepy / (x264 alone on the project's frames) = "
                  f"{results['moviepy']['wall'] / bounds['project']['wall']:.2f}x: the most "
                  "any project run could reach at these encoder settings")
    if not args.skip_long:
        for w in args.long_workers or args.workers:
            name = f"{label(w)} 8x"
            outs[name] = work / f"project_8x_w{w}" / "final.mp4"
            contender(name, [*me, "--worker", "project", "--inputs", str(inputs_file),
                             "--out", str(outs[name]), "--repeat", "8", "--workers", str(w)],
                      outs[name])
            long, p = results[name], results[label(w)]
            growth = long["peak_tree_mb"] / p["peak_tree_mb"] - 1
            print(f"8x longer job, {label(w)}: {long['wall']:.1f} s "
                  f"({long['wall'] / p['wall']:.1f}x the time), peak tree RSS "
                  f"{long['peak_tree_mb']:.0f} MB ({growth:+.0%}, "
                  "target <= +15%)")


if __name__ == "__main__":
    main()

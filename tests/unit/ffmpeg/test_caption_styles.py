"""Burnt-in caption styles, bundled fonts, chapters and the poster, on real ffmpeg.

Each style is burnt into a real streamed mux (16:9 and 9:16); the caption's
pixels (where the burnt frame differs from the same frame without captions)
must lie inside the safe area. The frames are saved for review under the test's
tmp dir, and copied to ``$VIDEOGEN_REVIEW_DIR`` when that is set (e.g.
``benchmarks/out/captions``).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import av
import numpy as np
import pytest
from PIL import Image, ImageOps

from videogen_adapters.ffmpeg.ass import ass_document, safe_area
from videogen_adapters.ffmpeg.kenburns import KenBurnsClipRenderer
from videogen_adapters.ffmpeg.muxer import FfmpegMuxer
from videogen_adapters.ffmpeg.probe import decode_frames
from videogen_adapters.ffmpeg.runner import find_ffmpeg
from videogen_adapters.fonts import ffmpeg_env, font_dirs
from videogen_core.captions import timed_words
from videogen_core.model import VideoSettings
from videogen_core.ports import Chapter, ClipRequest, Cue, FrameSource, MuxPlan, Word
from videogen_core.timeline import Timeline

PHOTO = Path(__file__).parents[2] / "fixtures" / "ffmpeg" / "astronaut_480x270.jpg"
SIZES = {"16x9": (1024, 576), "9x16": (576, 1024)}
# hard cases: a long word, a long sentence, commas, and words timed by the narrator
CUES = (
    Cue(0.05, 1.2, "Extraordinarily unbelievable adventures await everyone here", (
        Word(0.05, 0.45, "Extraordinarily"), Word(0.45, 0.75, "unbelievable"),
        Word(0.75, 0.95, "adventures"), Word(0.95, 1.05, "await"),
        Word(1.05, 1.12, "everyone"), Word(1.12, 1.2, "here"))),
    Cue(1.25, 1.6, "Look, the quick brown fox jumps over the lazy dog tonight."),
    Cue(1.6, 1.95, "مرحبا بالعالم 你好世界，今天天气很好 😀🎬 Привет"),
)


def sources(timeline: Timeline, settings: VideoSettings,
            images: tuple[Path, ...] = (PHOTO,)) -> list[FrameSource]:
    counts = timeline.frame_counts(settings.fps)
    renderer = KenBurnsClipRenderer()
    return [renderer.stream(ClipRequest(images[i % len(images)], d, "static", i,
                                        settings=settings, scene_number=i + 1,
                                        cut_frames=timeline.cut_frames(i, settings.fps),
                                        frame_count=counts[i]))
            for i, d in enumerate(timeline.durations)]


def review(path: Path) -> None:
    """Copy a frame for review to $VIDEOGEN_REVIEW_DIR when set."""
    folder = os.environ.get("VIDEOGEN_REVIEW_DIR")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        shutil.copy(path, Path(folder) / path.name)


def caption_box(plain: np.ndarray, burnt: np.ndarray) -> tuple[int, int, int, int] | None:
    """Bounding box (left, top, right, bottom) of the pixels the captions changed."""
    diff = np.abs(plain.astype(int) - burnt.astype(int)) > 24
    ys, xs = np.nonzero(diff)
    if xs.size == 0:
        return None
    return int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1


@pytest.fixture(scope="module")
def plain_frames(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[np.ndarray]]:
    out = {}
    for name, (w, h) in SIZES.items():
        settings = VideoSettings(width=w, height=h, fps=12, crf=18, preset="ultrafast")
        timeline = Timeline.build([2.0], "none")
        path = tmp_path_factory.mktemp("plain") / f"plain_{name}.mp4"
        FfmpegMuxer().mux(MuxPlan(timeline, tuple(sources(timeline, settings)), video=settings,
                                  soft_subtitles=False), path)
        out[name] = list(decode_frames(path, pix_fmt="gray"))
    return out


@pytest.mark.parametrize("size", list(SIZES))
@pytest.mark.parametrize("style", ["subtitle", "karaoke", "bold"])
def test_each_style_stays_inside_the_safe_area(style: str, size: str, tmp_path: Path,
                                               plain_frames: dict[str, list[np.ndarray]]
                                               ) -> None:
    w, h = SIZES[size]
    settings = VideoSettings(width=w, height=h, fps=12, crf=18, preset="ultrafast")
    timeline = Timeline.build([2.0], "none")
    out = tmp_path / f"{style}_{size}.mp4"
    FfmpegMuxer().mux(MuxPlan(timeline, tuple(sources(timeline, settings)),
                              cues=timed_words(CUES), video=settings, soft_subtitles=False,
                              burn_subtitles=True, caption_style=style), out)
    burnt = list(decode_frames(out, pix_fmt="gray"))
    safe = safe_area(w, h)
    seen = 0
    for k, (a, b) in enumerate(zip(plain_frames[size], burnt, strict=True)):
        box = caption_box(a, b)
        if box is None:
            continue
        seen += 1
        left, top, right, bottom = box
        assert left >= safe.left and right <= w - safe.right, (k, box, safe)
        assert top >= safe.top and bottom <= h - safe.bottom, (k, box, safe)
        if style == "bold":  # big words in the middle band, not at the bottom
            assert top > h * 0.25 and bottom < h - safe.bottom
        if style != "bold":  # the others sit at the bottom of the safe area
            assert bottom > h - safe.bottom - h * 0.08
    assert seen >= 20  # captions were on screen in (nearly) every frame
    frame = tmp_path / f"caption_{style}_{size}.png"
    with av.open(str(out)) as container:
        for n, image in enumerate(container.decode(video=0)):
            if n == 8:  # 0.67 s: inside the first cue, a word lit
                image.to_image().save(frame)
                break
    assert Image.open(frame).size == (w, h)
    review(frame)


def test_karaoke_lights_only_the_spoken_word() -> None:
    doc = ass_document(timed_words(CUES[:1]), "karaoke", 1024, 576)
    events = [line for line in doc.splitlines() if line.startswith("Dialogue:")]
    assert len(events) == 6  # one per word
    for event, word in zip(events, CUES[0].words, strict=True):
        assert event.count("\\c&H0000E6FF&") == 1  # exactly one word highlighted...
        assert f"\\c&H0000E6FF&}}{word.text}{{" in event  # ...the spoken one


def test_bold_shows_at_most_three_words_at_a_time() -> None:
    doc = ass_document(timed_words(CUES), "bold", 576, 1024)
    for line in doc.splitlines():
        if line.startswith("Dialogue:"):
            text = line.split(",,", 2)[-1].split("}", 1)[1]
            plain = text.replace("{\\c&H0000E6FF&}", "").replace("{\\c&H00FFFFFF&}", "")
            assert 1 <= len(plain.replace("\\N", " ").split()) <= 3


# ---------------------------------------------------------------- scripts
SCRIPTS = {"latin": "Ag", "cyrillic": "Жд", "greek": "Ωλ", "chinese": "中文", "japanese": "あア",
           "korean": "한글", "arabic": "سلام", "hebrew": "שלום", "emoji": "😀🎬"}
MISSING = "\U000F0000"  # private use: no font has it (a .notdef box)


def render_text(text: str, tmp: Path) -> tuple[np.ndarray, str]:
    """``text`` burnt white on black at 256x128 with the bundled fonts; (luma, warnings)."""
    cue = Cue(0.0, 1.0, text)
    ass = tmp / f"t{abs(hash(text))}.ass"
    doc = re.sub(r"\\fs[0-9.]+", "", ass_document([cue], "subtitle", 256, 128))
    doc = re.sub(r"\\an2\\pos\([0-9,]+\)", lambda _: "\\an5\\pos(128,64)\\fs60", doc)
    ass.write_text(doc, encoding="utf-8")
    png = tmp / f"t{abs(hash(text))}.png"
    proc = subprocess.run(
        [find_ffmpeg(), "-hide_banner", "-loglevel", "warning", "-y", "-f", "lavfi", "-i",
         "color=c=black:s=256x128:d=0.5", "-vf", f"ass=filename={ass}", "-frames:v", "1",
         "-update", "1", str(png)], env=ffmpeg_env(tmp / "fc"), capture_output=True, text=True,
        check=True)
    return np.asarray(Image.open(png).convert("L"), dtype=float), proc.stderr


def test_the_fonts_come_with_the_project() -> None:
    dirs = font_dirs()
    assert len(dirs) == 2
    names = {p.name for d in dirs for p in d.iterdir()}
    assert {"NotoSans[wght].ttf", "NotoEmoji[wght].ttf", "NotoSansArabic[wght].ttf",
            "NotoSansHebrew[wght].ttf", "NotoSansCJK-VF.otf.ttc"} <= names


@pytest.mark.parametrize("script", list(SCRIPTS))
def test_every_script_renders_glyphs_not_tofu(script: str, tmp_path: Path) -> None:
    tofu, tofu_log = render_text(MISSING * len(SCRIPTS[script]), tmp_path)
    assert "failed to find any fallback" in tofu_log  # the reference really is .notdef
    glyphs, log = render_text(SCRIPTS[script], tmp_path)
    assert "failed to find any fallback" not in log, log
    ink = glyphs > 128
    assert ink.sum() > 150  # something was drawn
    # and it is not the .notdef box: the ink overlaps the boxes' ink only a little
    boxes = tofu > 128
    assert (ink & boxes).sum() / (ink | boxes).sum() < 0.5


def test_right_to_left_text_is_set_right_to_left(tmp_path: Path) -> None:
    """Hebrew letters in memory order, rendered: the first letter is drawn rightmost
    (it matches the first letter rendered alone on the right, not on the left)."""
    word, _ = render_text("שלום", tmp_path)
    first, _ = render_text("ש", tmp_path)
    cols = np.nonzero((word > 128).any(axis=0))[0]
    left, right = cols.min(), cols.max()
    width = np.nonzero((first > 128).any(axis=0))[0]
    glyph = first[:, width.min():width.max() + 1]
    g = glyph.shape[1]
    right_part = word[:, right + 1 - g:right + 1]
    left_part = word[:, left:left + g]
    assert np.abs(right_part - glyph).mean() < np.abs(left_part - glyph).mean()


def render_ass(doc: str, t: float, tmp: Path, name: str) -> np.ndarray:
    ass = tmp / f"{name}.ass"
    ass.write_text(doc, encoding="utf-8")
    png = tmp / f"{name}.png"
    subprocess.run(
        [find_ffmpeg(), "-hide_banner", "-loglevel", "error", "-y", "-f", "lavfi", "-i",
         "color=c=black:s=512x288:d=2", "-vf", f"ass=filename={ass}", "-ss", f"{t:.2f}",
         "-frames:v", "1", "-update", "1", str(png)], env=ffmpeg_env(tmp / "fc"), check=True)
    return np.asarray(Image.open(png).convert("L"), dtype=float) > 100


@pytest.mark.parametrize("text", ["אחת שתיים שלוש ארבע", "واحد اثنان ثلاثة أربعة"])
def test_highlighting_a_word_keeps_the_right_to_left_layout(text: str, tmp_path: Path) -> None:
    """The lit word's colour change must not reorder the words of an RTL line: every
    karaoke frame has the ink of the same line drawn without any highlight."""
    cues = timed_words([Cue(0.0, 2.0, text)])
    doc = ass_document(cues, "karaoke", 512, 288)
    plain = render_ass(doc.replace("{\\c&H0000E6FF&}", "").replace("{\\c&H00FFFFFF&}", ""),
                       1.0, tmp_path, "plain")
    assert plain.sum() > 200
    for k, word in enumerate(cues[0].words):
        lit = render_ass(doc, (word.start + word.end) / 2, tmp_path, f"lit{k}")
        iou = (lit & plain).sum() / (lit | plain).sum()
        assert iou > 0.9, (k, iou)


# ------------------------------------------------------- chapters and poster
@pytest.mark.parametrize("transition", ["crossfade", "none"])
def test_chapters_are_the_scenes_and_the_poster_is_a_jpeg(transition: str,
                                                          tmp_path: Path) -> None:
    settings = VideoSettings(width=320, height=180, fps=12, crf=18, preset="ultrafast")
    negative = tmp_path / "negative.png"
    ImageOps.invert(Image.open(PHOTO).convert("RGB")).save(negative)
    timeline = Timeline.build([1.5, 1.5, 1.0], transition, 0.5)
    starts = [s + (timeline.overlap / 2 if i else 0) for i, s in enumerate(timeline.starts)]
    chapters = tuple(Chapter(a, b, t) for a, b, t in zip(
        starts, [*starts[1:], timeline.total], ["Once upon a time…", "Scene 2", "The end"],
        strict=True))
    body = (timeline.starts[1] + timeline.overlap, timeline.ends[1] - timeline.overlap)
    out = tmp_path / "video.mp4"
    result = FfmpegMuxer().mux(MuxPlan(timeline, tuple(sources(timeline, settings,
                                                               (PHOTO, negative))),
                                       video=settings, chapters=chapters, poster=body), out)
    with av.open(str(out)) as container:
        found = container.chapters()
        assert len(container.streams.video) == 1
        # the chapters also form a QuickTime chapter (text) track, for Apple players
        assert [s.type for s in container.streams].count("data") == 1
    assert [c["metadata"].get("title") for c in found] == [c.title for c in chapters]
    for got, want in zip(found, chapters, strict=True):
        assert float(got["start"] * got["time_base"]) == pytest.approx(want.start, abs=0.002)
        assert float(got["end"] * got["time_base"]) == pytest.approx(want.end, abs=0.002)
    assert result.poster == out.with_suffix(".jpg")
    poster = Image.open(result.poster)
    assert poster.format == "JPEG" and poster.size == (320, 180)
    # it shows scene 2 (the negative), not the photo of scenes 1 and 3
    frames = list(decode_frames(out, pix_fmt="rgb24"))
    fps = settings.fps
    mid2 = round((body[0] + body[1]) / 2 * fps)
    pic = np.asarray(poster, dtype=float)
    assert np.abs(pic - frames[mid2]).mean() < np.abs(pic - frames[3]).mean() / 3


def test_clip_files_get_chapters_poster_and_burnt_captions(tmp_path: Path) -> None:
    """The clip-file path (generative renderers): the same chapters, poster and
    karaoke captions as the streamed path."""
    settings = VideoSettings(width=320, height=180, fps=12, crf=18, preset="ultrafast")
    timeline = Timeline.build([1.5, 1.5], "crossfade", 0.5)
    counts = timeline.frame_counts(settings.fps)
    clips = []
    for i, d in enumerate(timeline.durations):
        clip = tmp_path / f"clip_{i}.mp4"
        KenBurnsClipRenderer().render(ClipRequest(PHOTO, d, "static", i, settings=settings,
                                                  scene_number=i + 1,
                                                  cut_frames=timeline.cut_frames(i, 12),
                                                  frame_count=counts[i]), clip)
        clips.append(clip)
    chapters = (Chapter(0.0, 1.25, "One"), Chapter(1.25, timeline.total, "Two"))
    cues = timed_words([Cue(0.1, 2.4, "Every word lights up in turn")])
    plain, burnt = tmp_path / "plain.mp4", tmp_path / "burnt.mp4"
    FfmpegMuxer().mux(MuxPlan(timeline, tuple(clips), video=settings), plain)
    result = FfmpegMuxer().mux(MuxPlan(timeline, tuple(clips), cues=cues, video=settings,
                                       burn_subtitles=True, caption_style="karaoke",
                                       chapters=chapters, poster=(0.0, 1.0)), burnt)
    with av.open(str(burnt)) as container:
        assert [c["metadata"]["title"] for c in container.chapters()] == ["One", "Two"]
    assert result.poster is not None and Image.open(result.poster).size == (320, 180)
    a = list(decode_frames(plain, pix_fmt="gray"))[12]
    b = list(decode_frames(burnt, pix_fmt="gray"))[12]
    box = caption_box(a, b)
    safe = safe_area(320, 180)
    assert box is not None and box[3] <= 180 - safe.bottom and box[1] >= safe.top

"""The pure argv builders (no ffmpeg run here)."""

from __future__ import annotations

from pathlib import Path

import pytest

from videogen_adapters.ffmpeg import commands
from videogen_adapters.ffmpeg.audio import Loudness, mix_graph, normalization, parse_ebur128
from videogen_core.errors import RenderFailed
from videogen_core.model import AudioSettings, VideoSettings
from videogen_core.ports import MusicPlacement, NarrationPlacement

FF = "/opt/ffmpeg"
SETTINGS = VideoSettings(width=320, height=180, fps=25, crf=7, preset="slow")


def _value(argv: list[str], flag: str) -> str:
    return argv[argv.index(flag) + 1]


def test_force_key_frames_expression() -> None:
    assert commands.force_key_frames_expr([]) is None
    assert commands.force_key_frames_expr([0]) is None
    assert commands.force_key_frames_expr([30, 12, 12]) == "expr:eq(n,12)+eq(n,30)"


def test_x264_args_use_the_final_settings() -> None:
    args = commands.x264_args(SETTINGS, (12,))
    assert _value(args, "-c:v") == "libx264"
    assert _value(args, "-preset") == "slow" and _value(args, "-crf") == "7"
    assert _value(args, "-pix_fmt") == "yuv420p"
    assert _value(args, "-forced-idr") == "1"
    assert "open-gop=0" in _value(args, "-x264-params")
    # smooth motion at the delivered crf (tests/unit/ffmpeg/test_jitter_delivered.py)
    assert {"psy=0", "qcomp=1.0", "aq-mode=0"} <= set(_value(args, "-x264-params").split(":"))
    assert _value(args, "-force_key_frames") == "expr:eq(n,12)"
    with pytest.raises(ValueError):
        commands.x264_args(VideoSettings(codec="vp9"))


def test_encode_raw_args() -> None:
    argv = commands.encode_raw_args(FF, Path("/out/clip.mp4"), SETTINGS, 77, cut_frames=(5,))
    assert argv[0] == FF and argv[-1] == "/out/clip.mp4"
    assert _value(argv, "-f") == "rawvideo" and _value(argv, "-i") == "pipe:0"
    assert _value(argv, "-s") == "320x180" and _value(argv, "-framerate") == "25"
    assert _value(argv, "-frames:v") == "77"
    assert "+faststart" in argv and "-nostdin" not in argv  # frames come on stdin


def test_concat_list_quotes_paths(tmp_path: Path) -> None:
    text = commands.concat_list_text([tmp_path / "a b.mp4", tmp_path / "it's.mp4"])
    assert text.startswith("ffconcat version 1.0\n")
    assert f"file '{tmp_path}/a b.mp4'" in text
    assert "it'\\''s.mp4'" in text


def test_concat_mux_copies_and_never_shortens() -> None:
    argv = commands.concat_mux_args(FF, Path("l.txt"), Path("o.mp4"), audio=Path("a.m4a"),
                                    subtitles=Path("c.srt"))
    assert "-shortest" not in argv
    assert _value(argv, "-c:v") == "copy" and _value(argv, "-c:a") == "copy"
    assert _value(argv, "-c:s") == "mov_text"
    assert "+faststart" in argv
    assert argv.count("-map") == 3
    assert "-vf" not in argv  # the video is never re-encoded here


def test_ass_filter_escapes_the_path() -> None:
    text = commands.ass_filter(Path("/tmp/a:b/c's.ass"), Path("/fonts"))
    assert text.startswith("ass=filename='/tmp/a\\:b/c\\'s.ass'")
    assert "fontsdir='/fonts'" in text
    assert "fontsdir" not in commands.ass_filter(Path("x.ass"))


def test_ffmetadata_chapters_are_escaped_and_in_milliseconds() -> None:
    text = commands.ffmetadata_text([(0.0, 4.75, "Intro; a=b #1"), (4.75, 9.5, "Scene 2")])
    assert text.startswith(";FFMETADATA1\n")
    assert text.count("[CHAPTER]") == 2
    assert "START=4750\nEND=9500\ntitle=Scene 2" in text
    assert "title=Intro\\; a\\=b \\#1" in text


def test_final_mux_maps_the_chapters_file() -> None:
    argv = commands.mux_args(FF, Path("v.mp4"), Path("o.mp4"), audio=Path("a.m4a"),
                             subtitles=Path("c.srt"), chapters=Path("ch.ffmeta"))
    i = argv.index("ch.ffmeta")
    assert argv[i - 3:i] == ["-f", "ffmetadata", "-i"]
    assert _value(argv, "-map_chapters") == "3"  # inputs: video, audio, captions, chapters
    plain = commands.mux_args(FF, Path("v.mp4"), Path("o.mp4"))
    assert "-map_chapters" not in plain


def test_normalize_args_pad_and_encode() -> None:
    argv = commands.normalize_args(FF, Path("m.wav"), Path("o.m4a"), "volume=3.00dB", 48000,
                                   21.0)
    af = _value(argv, "-af")
    assert af.startswith("volume=3.00dB,aresample=48000")
    assert "apad=whole_dur=21.000000" in af and "atrim=duration=21.000000" in af
    assert _value(argv, "-c:a") == "aac" and "-shortest" not in argv


def test_normalization_gain_and_limiter() -> None:
    settings = AudioSettings(loudness_lufs=-14, true_peak_db=-1)
    assert normalization(Loudness(-20.0, -12.0), settings) == "volume=6.00dB"
    limited = normalization(Loudness(-20.0, -4.0), settings)  # +6 dB would peak at +2
    assert limited.startswith("volume=6.00dB,alimiter=limit=0.7943")  # -2 dBFS
    assert "level=false" in limited
    assert normalization(Loudness(float("-inf"), float("-inf")), settings) == "anull"


def test_parse_ebur128_summary() -> None:
    text = ("[Parsed_ebur128_0 @ 0x1] Summary:\n\n  Integrated loudness:\n"
            "    I:         -21.8 LUFS\n    Threshold: -31.8 LUFS\n\n"
            "  True peak:\n    Peak:      -18.1 dBFS\n")
    assert parse_ebur128(text) == Loudness(-21.8, -18.1)
    with pytest.raises(RenderFailed):
        parse_ebur128("nothing here")


def test_mix_graph_places_ducks_and_pads() -> None:
    settings = AudioSettings()
    narr = (NarrationPlacement(Path("n0.wav"), 0.25, 2.0),
            NarrationPlacement(Path("n1.wav"), 4.5, 2.0))
    music = (MusicPlacement(Path("m1.wav"), 3.0, 10.0), MusicPlacement(Path("m0.wav"), 0.0, 5.0))
    inputs, graph = mix_graph(narr, music, 10.0, settings)
    assert inputs == [Path("n0.wav"), Path("n1.wav"), Path("m0.wav"), Path("m1.wav")]
    assert "adelay=delays=12000S:all=1" in graph  # 0.25 s at 48 kHz, in samples
    assert "adelay=delays=216000S:all=1" in graph
    assert "afade=t=out:st=3.000000:d=2.000000" in graph  # beds crossfade over 3..5 s
    assert "afade=t=in:st=0:d=2.000000" in graph
    assert "sidechaincompress" in graph and "[music][key]" in graph
    assert graph.count("apad=whole_dur=10.000000") >= 1
    assert graph.endswith("[mix]")


def test_mix_graph_without_anything_is_silence() -> None:
    inputs, graph = mix_graph((), (), 3.0, AudioSettings())
    assert inputs == [] and graph.startswith("anullsrc=")


def test_x264_threads_as_asked_else_more_than_cores() -> None:
    args = commands.x264_args(VideoSettings(threads=1), cores=8)
    assert args[args.index("-threads") + 1] == "1"
    for cores, threads in ((1, 3), (2, 4), (4, 6), (8, 12), (16, 24)):
        args = commands.x264_args(VideoSettings(), cores=cores)
        assert args[args.index("-threads") + 1] == str(threads)
        assert args.count("-threads") == 1

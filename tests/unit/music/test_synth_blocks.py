"""The synthesiser mixes block by block: the samples do not depend on the block
size or on how much of the sound cache is kept, and memory stays bounded."""

from __future__ import annotations

import tracemalloc
from pathlib import Path

import pytest

from videogen_adapters.music import SynthMusicSource


def _bed(tmp_path: Path, name: str, mood: str, seconds: float, **options: float) -> bytes:
    out = tmp_path / f"{name}.wav"
    SynthMusicSource(**options).compose(mood, seconds, out, seed=21)  # type: ignore[arg-type]
    return out.read_bytes()


@pytest.mark.parametrize("mood", ["calm", "happy", "epic"])
def test_blockwise_output_equals_the_whole_array_mix(tmp_path: Path, mood: str) -> None:
    seconds = 7.3
    whole = _bed(tmp_path, "whole", mood, seconds, block_seconds=seconds + 1,
                 cache_bytes=1 << 40)
    # odd block sizes (not dividing the bed, smaller than most sounds) and a cache so
    # small that tonal sounds are rendered again and again
    for block, cache in ((0.37, 1 << 40), (1.0, 1 << 20), (0.05, 0)):
        parts = _bed(tmp_path, f"b{block}", mood, seconds, block_seconds=block,
                     cache_bytes=cache)
        assert len(parts) == len(whole) and len(whole) > 7 * 48000 * 4
        assert parts == whole, f"block {block} s, cache {cache} B"


def test_a_long_bed_does_not_hold_more_than_a_short_one(tmp_path: Path) -> None:
    def peak(seconds: float) -> int:
        tracemalloc.start()
        try:
            SynthMusicSource().compose("calm", seconds, tmp_path / "bed.wav", seed=3)
            return tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()

    short, long = peak(15.0), peak(90.0)
    # whole-length arrays would hold 6x more (90 s of stereo float64 alone is 66 MB)
    assert long < 1.3 * short, (short, long)
    assert long < 80 << 20

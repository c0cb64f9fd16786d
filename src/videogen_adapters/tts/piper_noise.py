"""Seeded noise for Piper: the same text, voice and seed give the same samples.

A Piper (VITS) model draws Gaussian noise inside the graph twice per call
(``RandomNormalLike`` in the stochastic duration predictor and in the prior).
onnxruntime seeds each such op once, when the session is built, and the state
then runs on from call to call: one narration's noise depends on every
narration the process spoke before it, so the same script gave a different
length each time (13.99 to 14.19 s measured for one scene).
``onnxruntime.set_seed`` cannot help for the same reason.

:func:`seeded_model` rewrites the graph once, at load: each ``RandomNormalLike``
becomes a slice of a new float input (``videogen_noise_<k>``), reshaped to the
shape the op would have produced. :func:`infer` feeds those inputs with
standard-normal numbers from ``numpy.random.default_rng(seed)``. The noise keeps
the voice's own scales (natural prosody, unlike switching the noise off), and
nothing else in the graph draws random numbers, so the output is a function of
(phonemes, scales, seed) — the same under 1 or many intra-op threads and across
processes (measured: identical bytes, 1/2/default threads, 3 processes).

The number of frames the prior's noise covers is known only inside the model
(it follows the predicted durations), so a generous buffer is passed; a 1-D
buffer is used so that its first N numbers are the same whatever its length,
and a too-short buffer is retried with a longer one without changing the result.

The same rewrite also exposes the model's phoneme durations (piper's own
``add_alignment_output``: the ``Ceil`` tensor of frames per phoneme id becomes a
second output; the audio is unchanged), so :func:`infer` returns each phoneme
id's sample count beside the audio, and :func:`phoneme_alignments` turns those
into piper's ``PhonemeAlignment`` list, exactly as ``PiperVoice.synthesize``
does with ``include_alignments=True`` (word times, ``align.piper_words``).
"""

from __future__ import annotations

import contextlib
import hashlib
import itertools
import logging
import os
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["NOISE_PREFIX", "cached_seeded_model", "infer", "phoneme_alignments", "seeded_model"]

log = logging.getLogger("videogen.tts.piper")

#: Bump when :func:`seeded_model`'s rewrite changes: rewritten models cached on disk
#: under an older number are not used.
REWRITE_VERSION = 2

#: Name prefix of the graph inputs that replace the model's random ops.
NOISE_PREFIX = "videogen_noise_"


def seeded_model(model_path: Path) -> tuple[bytes, int]:
    """The serialised model with its random ops turned into inputs, and how many;
    its phoneme durations are a second output when the model has them.

    Raises ImportError without the ``onnx`` package."""
    import onnx
    from onnx import TensorProto, helper
    from piper.patch_voice_with_alignment import add_alignment_output

    model = onnx.load(str(model_path))
    # the phoneme durations as a second output; ValueError: no single Ceil tensor, or
    # already an output (a voice patched by piper's tool): the model as it is
    with contextlib.suppress(ValueError):
        add_alignment_output(model)
    graph = model.graph
    nodes: list[Any] = []
    count = 0
    for node in graph.node:
        if node.op_type not in ("RandomNormalLike", "RandomNormal"):
            nodes.append(node)
            continue
        name = f"{NOISE_PREFIX}{count}"
        count += 1
        mean = std = None
        for attr in node.attribute:
            if attr.name == "mean":
                mean = attr.f
            elif attr.name == "scale":
                std = attr.f
        graph.input.append(helper.make_tensor_value_info(name, TensorProto.FLOAT, [None]))
        if node.op_type == "RandomNormalLike":
            shape = f"{name}_shape"
            nodes.append(helper.make_node("Shape", [node.input[0]], [shape]))
        else:  # RandomNormal: the shape is an attribute
            shape = f"{name}_shape"
            dims = next(list(a.ints) for a in node.attribute if a.name == "shape")
            graph.initializer.append(helper.make_tensor(shape, TensorProto.INT64, [len(dims)],
                                                        dims))
        size, size1 = f"{name}_size", f"{name}_size1"
        zero, one = f"{name}_zero", f"{name}_one"
        graph.initializer.append(helper.make_tensor(zero, TensorProto.INT64, [1], [0]))
        graph.initializer.append(helper.make_tensor(one, TensorProto.INT64, [1], [1]))
        nodes.append(helper.make_node("ReduceProd", [shape], [size], keepdims=1))
        nodes.append(helper.make_node("Reshape", [size, one], [size1]))
        flat = f"{name}_flat"
        nodes.append(helper.make_node("Slice", [name, zero, size1], [flat]))
        out = node.output[0]
        if mean not in (None, 0.0) or std not in (None, 1.0):
            shaped = f"{name}_shaped"
            nodes.append(helper.make_node("Reshape", [flat, shape], [shaped],
                                          name=f"{name}_reshape"))
            scale_c, mean_c, scaled = f"{name}_std", f"{name}_mean", f"{name}_scaled"
            graph.initializer.append(helper.make_tensor(scale_c, TensorProto.FLOAT, [],
                                                        [1.0 if std is None else std]))
            graph.initializer.append(helper.make_tensor(mean_c, TensorProto.FLOAT, [],
                                                        [0.0 if mean is None else mean]))
            nodes.append(helper.make_node("Mul", [shaped, scale_c], [scaled]))
            nodes.append(helper.make_node("Add", [scaled, mean_c], [out]))
        else:
            nodes.append(helper.make_node("Reshape", [flat, shape], [out],
                                          name=f"{name}_reshape"))
    del graph.node[:]
    graph.node.extend(nodes)
    return model.SerializeToString(), count


def infer(session: Any, noise_inputs: int, args: dict[str, np.ndarray], seed: int,
          piece: int, hop_length: int) -> tuple[np.ndarray, np.ndarray | None]:
    """Run ``session`` on ``args`` with the noise of (``seed``, ``piece``): the
    raw audio (float32, 1-D) and the audio samples of each phoneme id (int64,
    one per id; None when the model has no durations output)."""
    ids = int(args["input"].shape[1])
    # generous: VITS makes ~2.5 frames per phoneme id; the prior has ≤ 256 channels
    length = 256 * (8 * ids + 64)
    last: Exception | None = None
    for _ in range(4):
        feed = dict(args)
        for k in range(noise_inputs):
            rng = np.random.default_rng([seed, piece, k])
            feed[f"{NOISE_PREFIX}{k}"] = rng.standard_normal(length, dtype=np.float32)
        try:
            result = session.run(None, feed)
        except Exception as exc:  # noqa: BLE001 - too little noise (our Reshape): retry
            if NOISE_PREFIX not in str(exc):  # another failure: not ours to retry
                raise
            last = exc
            length *= 4
            continue
        audio = np.asarray(result[0], dtype=np.float32).reshape(-1)
        if len(result) < 2:
            return audio, None
        # frames per id x hop, as piper's phoneme_ids_to_audio computes them
        return audio, (np.asarray(result[1]).reshape(-1) * hop_length).astype(np.int64)
    assert last is not None
    raise last


def phoneme_alignments(id_map: Mapping[str, Sequence[int]], phonemes: Sequence[str],
                       ids: Sequence[int], samples: np.ndarray | None) -> list[Any] | None:
    """Piper's ``PhonemeAlignment`` of each phoneme (``^``, the phonemes, ``$``): its ids
    (with the pad after it) and their summed ``samples``. The logic of
    ``PiperVoice.synthesize`` (inlined there, so not callable); None when the ids
    do not follow the phonemes or there are no durations."""
    from piper.const import BOS, EOS, PAD
    from piper.voice import PhonemeAlignment

    if samples is None or len(samples) != len(ids):
        return None
    pad = list(id_map.get(PAD, []))
    out: list[Any] = []
    k = 0
    for phoneme in itertools.chain([BOS], phonemes, [EOS]):
        expected = list(id_map.get(phoneme, []))
        wanted = expected if phoneme == EOS else expected + pad
        start = k
        for phoneme_id in wanted:
            if k >= len(ids) or ids[k] != phoneme_id:
                return None
            k += 1
        out.append(PhonemeAlignment(phoneme=phoneme, phoneme_ids=wanted,
                                    num_samples=int(samples[start:k].sum())))
    return out


def _cache_root() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "videogen" / "piper"


def cached_seeded_model(model_path: Path) -> tuple[Path | bytes, int]:
    """:func:`seeded_model`, kept on disk after the first time: a later process loads
    the rewritten model by path (no ``onnx`` import, no rewrite: about 1 s saved at
    every ``videogen render``). Cached under ``$XDG_CACHE_HOME/videogen/piper`` (or
    ``~/.cache``), keyed by the model file's path, size, mtime and
    :data:`REWRITE_VERSION`; written atomically. Where the cache cannot be written,
    the bytes are returned as they are."""
    stat = model_path.stat()
    ident = f"{REWRITE_VERSION}:{model_path.resolve()}:{stat.st_size}:{stat.st_mtime_ns}"
    key = hashlib.sha256(ident.encode()).hexdigest()[:24]
    root = _cache_root()
    for found in sorted(root.glob(f"{key}-n*.onnx")) if root.is_dir() else ():
        with contextlib.suppress(ValueError):
            return found, int(found.stem.rsplit("-n", 1)[1])
    data, count = seeded_model(model_path)
    tmp: str | None = None
    try:
        root.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{key}.", suffix=".tmp", dir=root)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, root / f"{key}-n{count}.onnx")
    except OSError as exc:  # a read-only home: rewrite again next time
        log.debug("cannot cache the seeded Piper model in %s: %s", root, exc)
        if tmp is not None:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
    return data, count

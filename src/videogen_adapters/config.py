"""Typed settings read once from the environment (and a ``.env`` file).

Every name is ``VIDEOGEN_<FIELD>`` in upper case, e.g. ``VIDEOGEN_DATA_DIR``.
The composition roots (CLI, HTTP app, Celery worker) call
:meth:`Settings.from_env` once and hand the values to adapter constructors;
adapters never read the environment themselves.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import attrs

from videogen_core import AnimationSettings, AudioSettings, InvalidRequest, VideoSettings
from videogen_core.model import MAX_NARRATION_CHARS

__all__ = ["ENV_PREFIX", "STATE_DIR_NAME", "Settings"]

ENV_PREFIX = "VIDEOGEN_"
#: The service's own files (job database, server lock) live in ``<DATA_DIR>/.videogen/``:
#: folder ids never start with a dot, so no folder can name (or collide with) them.
STATE_DIR_NAME = ".videogen"

_CHOICES = {
    "storage": ("local", "s3", "gcs", "firebase", "memory"),
    "renderer": ("kenburns", "comfyui"),
    "narrator": ("piper", "espeak", "http", "chain", "silent"),
    "music": ("synth", "library", "none"),
    "executor": ("threads", "celery"),
    "render_mode": ("auto", "stream", "chunked"),
    "job_store": ("sqlite", "redis", "memory"),
    "image_fit": ("cover", "contain"),
    "cache_shared": ("auto", "on", "off"),
}
_RANGES: dict[str, tuple[float, float]] = {
    "workers": (1, 64), "encoder_threads": (-1, 256), "max_duration": (0.5, 600),
    "max_scene_duration": (0.5, 86_400),
    "transition_duration": (0, 10), "max_speedup": (1, 4), "loudness_lufs": (-70, 0),
    "true_peak_db": (-30, 0), "duck_db": (0, 60), "music_crossfade": (0, 30),
    "url_expiry": (1, 604_800), "comfyui_timeout": (1, 86_400), "comfyui_concurrency": (1, 64),
    "cache_max_gb": (0, 1_000_000), "chunked_above": (0, 10_000_000),
    "fanout_helpers": (-1, 256), "chunk_lease": (1, 3600),
    "port": (0, 65_535), "threads": (1, 256), "max_jobs": (1, 256), "max_queue": (0, 100_000),
    "max_upload_mb": (1, 100_000), "max_body_kb": (1, 1_000_000), "tts_timeout": (0.1, 3600),
    "max_narration_chars": (1, 1_000_000),
}
_KIND_NAMES = {"int": "an integer", "float": "a number", "bool": "true or false"}


@attrs.frozen
class Settings:
    """All configuration of videogen, with embedded defaults (no servers, no keys)."""

    # where things live
    data_dir: Path = Path("videogen-data")
    work_dir: str = ""  # jobs' temporary files; "" = <data_dir>/.videogen/work
    storage: str = "local"
    renderer: str = "kenburns"
    narrator: str = "piper"
    music: str = "synth"
    executor: str = "threads"
    job_store: str = "sqlite"
    workers: int = 2
    # output video
    width: int = 1024
    height: int = 576
    fps: int = 24
    crf: int = 5
    preset: str = "medium"
    encoder_threads: int = -1
    stream_clips: bool = True
    image_fit: str = "cover"
    # chunked rendering (README "Chunked rendering")
    render_mode: str = "auto"
    chunked_above: float = 300.0
    cache_dir: str = ""  # encoded chunks by content hash; "" = <data_dir>/.videogen/cache
    cache_max_gb: float = 10.0
    cache_shared: str = "auto"  # a second cache tier on the storage (README "Chunked rendering")
    # chunks across workers (README "Chunks across workers"): helpers a Celery job's
    # owner asks for (-1: one per other worker answering a ping; 0: none), and the
    # seconds a chunk's claim outlives a silent (killed) encoder
    fanout_helpers: int = -1
    chunk_lease: float = 20.0
    # animation rules
    max_duration: float = 6.0
    max_scene_duration: float = 300.0
    transition_duration: float = 0.5
    max_speedup: float = 1.25
    max_narration_chars: int = MAX_NARRATION_CHARS
    # audio
    loudness_lufs: float = -14.0
    true_peak_db: float = -1.0
    duck_db: float = 12.0
    music_crossfade: float = 2.0
    burn_subtitles: bool = False
    soft_subtitles: bool = True
    # narration
    voice: str = ""
    piper_voice_path: str = ""
    narrator_chain: str = "piper,espeak"
    espeak_voice: str = "en-us"
    tts_url: str = ""
    tts_model: str = "tts-1"
    tts_voice: str = "alloy"
    tts_api_key: str = ""
    tts_timeout: float = 60.0
    # music
    music_dir: str = ""
    # storage backends
    s3_bucket: str = ""
    s3_prefix: str = ""
    s3_endpoint_url: str = ""
    s3_region: str = "us-east-1"
    s3_public_base_url: str = ""
    url_expiry: int = 3600
    gcs_bucket: str = ""
    gcs_prefix: str = ""
    gcs_credentials: str = ""
    gcs_public_base_url: str = ""
    public_base_url: str = ""
    # comfyui
    comfyui_url: str = "http://127.0.0.1:8188"
    comfyui_workflow: str = "svd_xt"
    comfyui_timeout: float = 600.0
    comfyui_concurrency: int = 2
    comfyui_fallback: bool = False
    # scale-out
    broker_url: str = "redis://127.0.0.1:6379/0"
    redis_url: str = ""
    # http service
    host: str = "127.0.0.1"
    port: int = 8000
    threads: int = 8
    api_token: str = ""
    max_jobs: int = 2
    max_queue: int = 16
    max_upload_mb: int = 50
    max_body_kb: int = 1024
    callback_secret: str = ""
    callback_allow_private: bool = False
    log_level: str = "INFO"

    def __attrs_post_init__(self) -> None:
        for name, allowed in _CHOICES.items():
            value = getattr(self, name)
            if value not in allowed:
                raise InvalidRequest(
                    ENV_PREFIX + name.upper(), f"must be one of {', '.join(allowed)}", value
                )
        for name, (lo, hi) in _RANGES.items():
            value = getattr(self, name)
            if not lo <= value <= hi:
                raise InvalidRequest(ENV_PREFIX + name.upper(), f"must be between {lo} and {hi}",
                                     value)
        try:
            self.video()
        except InvalidRequest as exc:
            raise InvalidRequest(ENV_PREFIX + exc.field.upper(), exc.reason, exc.value) from None

    @classmethod
    def from_env(
        cls, environ: Mapping[str, str] | None = None, *, dotenv: bool = True, **overrides: Any
    ) -> Settings:
        """Read ``VIDEOGEN_*`` variables (after loading ``.env`` from the working
        directory when ``dotenv``); ``overrides`` win over the environment."""
        if environ is None:
            if dotenv:
                try:
                    from dotenv import load_dotenv
                except ImportError:  # pragma: no cover - python-dotenv is a dependency
                    pass
                else:
                    load_dotenv(Path.cwd() / ".env", override=False)
            environ = os.environ
        values: dict[str, Any] = {}
        for field in attrs.fields(cls):
            key = ENV_PREFIX + field.name.upper()
            if key in environ and environ[key] != "":
                values[field.name] = _convert(key, environ[key], field.type)
        values.update(overrides)
        return cls(**values)

    @classmethod
    def names(cls) -> list[tuple[str, str]]:
        """Every environment variable with its default, for docs and ``videogen doctor``."""
        return [(ENV_PREFIX + f.name.upper(), str(f.default)) for f in attrs.fields(cls)]

    def video(self, fps: int | None = None) -> VideoSettings:
        """Output encoding settings (``fps`` from the request wins)."""
        return VideoSettings(width=self.width, height=self.height, fps=fps or self.fps,
                             crf=self.crf, preset=self.preset, threads=self.x264_threads())

    @property
    def state_dir(self) -> Path:
        """``<DATA_DIR>/.videogen``: the job database and the server lock, outside the
        folder namespace (``VIDEOGEN_DATA_DIR/<folder_id>/``)."""
        return Path(self.data_dir) / STATE_DIR_NAME

    @property
    def cache_path(self) -> Path:
        """Where encoded chunks are cached: ``VIDEOGEN_CACHE_DIR``, else
        ``<DATA_DIR>/.videogen/cache``."""
        return Path(self.cache_dir) if self.cache_dir else self.state_dir / "cache"

    @property
    def shares_cache(self) -> bool:
        """Whether the cache has a tier on the configured storage: ``VIDEOGEN_CACHE_SHARED=on``,
        or ``auto`` with Celery workers and a storage that is not on this machine."""
        if self.cache_shared == "auto":
            return self.executor == "celery" and self.storage not in ("local", "memory")
        return self.cache_shared == "on"

    @property
    def streams_clips(self) -> bool:
        """True when scenes stream into one encoder (Ken Burns with ``stream_clips``)."""
        return self.stream_clips and self.renderer == "kenburns"

    def x264_threads(self) -> int:
        """Threads per x264 encoder: ``encoder_threads`` when ≥ 0; by default (−1)
        automatic (0): every video is made by the muxer's encode, which gives a lone
        encoder cores + 2 threads and shares the cores out between chunks encoding
        side by side (clip files — generative renderers' — are decoded into it, so
        they no longer take the side-by-side share of the final encode)."""
        if self.encoder_threads >= 0:
            return self.encoder_threads
        return 0

    def animation(self) -> AnimationSettings:
        """Clip rules for the pipeline."""
        return AnimationSettings(max_duration=self.max_duration,
                                 transition_duration=self.transition_duration,
                                 max_scene_duration=self.max_scene_duration,
                                 max_speedup=self.max_speedup,
                                 max_narration_chars=self.max_narration_chars)

    def audio(self) -> AudioSettings:
        """Mix targets for the muxer."""
        return AudioSettings(loudness_lufs=self.loudness_lufs, true_peak_db=self.true_peak_db,
                             duck_db=self.duck_db, music_crossfade=self.music_crossfade)


def _convert(key: str, raw: str, kind: Any) -> Any:
    kind = kind if isinstance(kind, str) else getattr(kind, "__name__", str(kind))
    try:
        if kind == "bool":
            lowered = raw.strip().lower()
            if lowered in {"1", "true", "yes", "on"}:
                return True
            if lowered in {"0", "false", "no", "off"}:
                return False
            raise ValueError(raw)
        if kind == "int":
            return int(raw)
        if kind == "float":
            number = float(raw)
            if not math.isfinite(number):
                raise ValueError(raw)
            return number
        if kind == "Path":
            return Path(raw).expanduser()
    except ValueError:
        raise InvalidRequest(key, f"must be {_KIND_NAMES.get(kind, kind)}", raw) from None
    value = raw.strip()
    if key.removeprefix(ENV_PREFIX).lower() in _CHOICES:
        value = value.lower()
    return value

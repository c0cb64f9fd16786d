"""The seed's orchestrator and the composition root for library users.

``process_video_generation(folder_id, data) -> (success, video_url)`` is the
seed's function: it composes the configured adapters (embedded defaults when
nothing is configured: local disk, Ken Burns, Piper, synthesised music,
ffmpeg), runs the pipeline and returns ``(False, "")`` with the error logged
for expected failures. :func:`generate` is the richer API next to it: it
returns the full :class:`~videogen_core.pipeline.VideoResult` (metadata,
warnings) and raises domain errors.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import attrs

from videogen_core import (
    CancelToken,
    ClipRenderer,
    Executor,
    MusicSource,
    Muxer,
    Narrator,
    ProgressEvent,
    Storage,
    VideogenError,
    match_images,
)
from videogen_core.pipeline import VideoPipeline, VideoResult

from .config import Settings
from .converter import structure_request

if TYPE_CHECKING:
    from .cache import DiskCache

__all__ = [
    "build_cache",
    "build_chunk_board",
    "build_executor",
    "build_muxer",
    "build_pipeline",
    "build_renderer",
    "build_scene_renderers",
    "cached_music",
    "cached_narrator",
    "generate",
    "process_video_generation",
]

log = logging.getLogger("videogen")


def build_executor(settings: Settings) -> Executor:
    """The executor named by ``VIDEOGEN_EXECUTOR`` (threads by default)."""
    from .executors import ThreadPoolExecutorAdapter

    return ThreadPoolExecutorAdapter(settings.workers)


def build_renderer(settings: Settings) -> ClipRenderer:
    """The clip renderer named by ``VIDEOGEN_RENDERER`` (Ken Burns by default)."""
    from .ffmpeg.kenburns import KenBurnsClipRenderer

    kenburns = KenBurnsClipRenderer(fit=settings.image_fit)
    if settings.renderer == "comfyui":
        from .comfyui import build_comfyui_renderer

        renderer: ClipRenderer = build_comfyui_renderer(settings)
        if settings.comfyui_fallback:
            from .comfyui import FallbackClipRenderer

            renderer = FallbackClipRenderer(renderer, kenburns)
        return renderer
    return kenburns


class _LazyRenderer:
    """A renderer built on its first use (a scene asks for it by name): a server
    that never uses ComfyUI never builds its client."""

    def __init__(self, name: str, build: Callable[[], ClipRenderer]) -> None:
        self.name = name
        self._build = build
        self._built: ClipRenderer | None = None
        self._lock = threading.Lock()

    @property
    def inner(self) -> ClipRenderer:
        """The renderer, built now if not yet."""
        with self._lock:
            if self._built is None:
                self._built = self._build()
            return self._built

    def render(self, request: Any, output_path: Any, **kwargs: Any) -> Any:
        """The built renderer's ``render``."""
        return self.inner.render(request, output_path, **kwargs)

    def __getattr__(self, attribute: str) -> Any:
        """Anything else (``version``, ``cache_token``, ``render_ahead``...) is the
        built renderer's: cache keys and queueing see the real renderer."""
        if attribute.startswith("_"):
            raise AttributeError(attribute)
        return getattr(self.inner, attribute)


def build_scene_renderers(settings: Settings, default: ClipRenderer
                          ) -> dict[str, ClipRenderer]:
    """The renderers a scene can name (``"renderer": "kenburns" | "comfyui"``) next
    to ``default``: Ken Burns always; ComfyUI when ``VIDEOGEN_COMFYUI_URL`` is set
    (built on first use, with the Ken Burns fallback when configured)."""
    from .ffmpeg.kenburns import KenBurnsClipRenderer

    named: dict[str, ClipRenderer] = {"kenburns": KenBurnsClipRenderer(fit=settings.image_fit)}
    if settings.comfyui_url:
        comfy = attrs.evolve(settings, renderer="comfyui")
        named["comfyui"] = _LazyRenderer("comfyui", lambda: build_renderer(comfy))
    name = getattr(default, "name", "")
    if name in named:
        named[name] = default
    return named


def build_cache(settings: Settings, storage: Storage | None = None) -> DiskCache:
    """The artifact cache: a DiskCache at ``VIDEOGEN_CACHE_DIR``; a SharedCache with a
    tier on ``storage`` (built from the settings when None) when
    ``settings.shares_cache`` (``VIDEOGEN_CACHE_SHARED``)."""
    from .cache import DiskCache

    max_bytes = int(settings.cache_max_gb * 1e9)
    if not settings.shares_cache:
        return DiskCache(settings.cache_path, max_bytes)
    from .cache.shared import SharedCache

    if storage is None:
        from .storage import build_storage

        storage = build_storage(settings)
    return SharedCache(settings.cache_path, max_bytes, storage)


def build_muxer(settings: Settings, storage: Storage | None = None) -> Muxer:
    """The ffmpeg muxer, with the chunk cache (:func:`build_cache`) and the chunk board:
    the threads of this process share chunks on an in-memory board; Celery workers on
    the broker's server (README "Chunks across workers")."""
    from .ffmpeg.muxer import FfmpegMuxer

    return FfmpegMuxer(cache=build_cache(settings, storage), board=build_chunk_board(settings),
                       chunk_lease=settings.chunk_lease)


def build_chunk_board(settings: Settings) -> Any:
    """The :class:`~videogen_adapters.chunkboard.ChunkBoard` of this process: on the
    broker's Redis/Valkey with the Celery executor, else in memory."""
    from .chunkboard import InMemoryChunkBoard

    if settings.executor == "celery" and settings.broker_url.startswith(
            ("redis://", "rediss://", "unix://")):
        from .chunkboard.redis import RedisChunkBoard

        return RedisChunkBoard.from_url(settings.broker_url)
    return InMemoryChunkBoard()


def _audio_token(settings: Settings, inner: Any, *fields: str) -> str:
    """What decides a narrator's or music source's audio besides the call itself."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        package = version("videogen")
    except PackageNotFoundError:  # pragma: no cover - running from a source tree
        package = "source"
    return repr((package, getattr(inner, "version", 1),
                 [(f, getattr(settings, f)) for f in fields]))


def cached_narrator(settings: Settings, narrator: Narrator,
                    storage: Storage | None = None) -> Narrator:
    """``narrator`` answered from the cache (README "Chunked rendering")."""
    from .cache.audio import CachingNarrator

    token = _audio_token(settings, narrator, "narrator", "voice", "piper_voice_path",
                         "narrator_chain", "espeak_voice", "tts_url", "tts_model",
                         "tts_voice")
    return CachingNarrator(narrator, build_cache(settings, storage), token)


def cached_music(settings: Settings, music: MusicSource,
                 storage: Storage | None = None) -> MusicSource:
    """``music`` answered from the cache (README "Chunked rendering"); the synthesiser
    only (a library folder can change under us)."""
    if settings.music != "synth":
        return music
    from .cache.audio import CachingMusicSource

    return CachingMusicSource(music, build_cache(settings, storage),
                              _audio_token(settings, music, "music"))


def build_pipeline(
    settings: Settings | None = None,
    *,
    storage: Storage | None = None,
    renderer: ClipRenderer | None = None,
    narrator: Narrator | None = None,
    music: MusicSource | None = None,
    muxer: Muxer | None = None,
    executor: Executor | None = None,
    public_base_url: str | None = None,
) -> VideoPipeline:
    """Compose a VideoPipeline from ``settings`` (read from the environment when
    None); any adapter passed explicitly replaces the configured one."""
    settings = settings or Settings.from_env()
    from .heap import bound_heap

    bound_heap()  # big arrays freed leave no holes: memory flat in the job's length
    if storage is None:
        from .storage import build_storage

        storage = build_storage(settings, public_base_url=public_base_url)
    if narrator is None:
        from .tts import build_narrator

        narrator = cached_narrator(settings, build_narrator(settings), storage)
    if music is None and settings.music != "none":
        from .music import build_music_source

        music = build_music_source(settings)
        music = cached_music(settings, music, storage)
    from .workdirs import process_work_dir, work_root

    renderer = renderer or build_renderer(settings)
    return VideoPipeline(
        storage=storage,
        renderer=renderer,
        renderers=build_scene_renderers(settings, renderer),
        narrator=narrator,
        music=music,
        muxer=muxer or build_muxer(settings, storage),
        executor=executor or build_executor(settings),
        video=settings.video(),
        animation=settings.animation(),
        audio=settings.audio(),
        cache_dir=settings.data_dir / ".cache" / "clips",
        # job work dirs under this process's own dir of the work root (swept at start)
        workdir=process_work_dir(work_root(settings)),
        soft_subtitles=settings.soft_subtitles,
        burn_subtitles=settings.burn_subtitles,
        stream_clips=settings.stream_clips,
        render_mode=settings.render_mode,
        chunked_above=settings.chunked_above,
        # a Celery worker's job, re-delivered after a crash, resumes from its chunks
        prefer_chunks=settings.executor == "celery",
    )


def generate(
    folder_id: str,
    data: Mapping[str, Any],
    *,
    settings: Settings | None = None,
    pipeline: VideoPipeline | None = None,
    progress: Callable[[ProgressEvent], None] | None = None,
    cancel: CancelToken | None = None,
) -> VideoResult:
    """Validate the seed's request body and make the video of ``folder_id``.

    Returns the full result; raises a VideogenError (InvalidRequest with the
    JSON path, MissingImage, ServiceUnavailable, RenderFailed, ...). A missing
    folder or scene image fails before anything else is reported (no script
    warnings ahead of a fatal folder error), as the HTTP API does."""
    sequence = structure_request(data)
    pipeline = pipeline or build_pipeline(settings)
    names = pipeline.storage.list_images(folder_id)
    match_images([s.scene_number for s in sequence.scenes], names, folder_id)
    log.info("generating folder %s: %d scenes, transition %s, seed %d", folder_id,
             len(sequence.scenes), sequence.params.transition_type, sequence.params.seed)
    return pipeline.run(folder_id, sequence, progress=progress, cancel=cancel)


def process_video_generation(folder_id: str, data: Mapping[str, Any]) -> tuple[bool, str]:
    """The seed's entry point: ``(True, video_url)`` on success, ``(False, "")``
    with the reason logged on any failure (it never raises). Warnings are logged
    once, by the pipeline, as they arise (they are also in ``generate()``'s result)."""
    try:
        result = generate(folder_id, data)
    except VideogenError as exc:
        log.error("video generation for %s failed: %s", folder_id, exc)
        return False, ""
    except Exception:  # noqa: BLE001 - the seed's contract is a boolean, never an exception
        log.exception("video generation for %s failed unexpectedly", folder_id)
        return False, ""
    return True, result.video_url

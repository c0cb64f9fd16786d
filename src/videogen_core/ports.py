"""The ports: what the pipeline needs from the outside world.

Each port is a :class:`typing.Protocol`; adapters in ``videogen_adapters``
fit them structurally (no inheritance) and prove it by passing the contract
suite in ``tests/contract/``. Value objects crossing the ports are frozen
attrs classes defined here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import Future
from pathlib import Path
from typing import Any, Protocol, TypeVar, runtime_checkable

import attrs

from .model import AudioSettings, VideoSettings
from .progress import CancelToken, ProgressEvent
from .timeline import Timeline

__all__ = [
    "STREAM_ENCODE_SHARE",
    "Chapter",
    "ClipRenderer",
    "ClipRequest",
    "Cue",
    "Executor",
    "FrameSource",
    "JobRecord",
    "JobStore",
    "MusicBed",
    "MusicPlacement",
    "MusicSource",
    "MuxPlan",
    "MuxResult",
    "Muxer",
    "Narration",
    "NarrationPlacement",
    "Narrator",
    "ProgressSink",
    "RenderedClip",
    "Storage",
    "StoredObject",
    "StreamingClipRenderer",
    "Word",
]

T = TypeVar("T")

#: Called with a fraction 0..1 of one unit of work (one clip, one file...).
FractionCallback = Callable[[float], None]


# --------------------------------------------------------------------- clips
@attrs.frozen
class ClipRequest:
    """Everything a renderer needs to turn one still into one clip.

    The clip must have exactly ``settings.frames(duration)`` frames at
    ``settings`` (size, fps, pix_fmt), so the muxer can decode it frame for frame
    into its encode. ``cut_frames`` are frame indices where transitions begin or
    end: the renderer starts a closed GOP (an IDR frame) at each of them, so a
    clip file can also be cut by stream copy elsewhere.
    """

    image_path: Path
    duration: float
    clip_action: str
    seed: int
    settings: VideoSettings = attrs.field(factory=VideoSettings)
    scene_number: int = 0
    narration: str = ""
    cut_frames: tuple[int, ...] = ()
    segment_index: int = 0
    frame_count: int | None = None
    #: the scene's ``focus``: ``"auto"`` (find the subject), ``"center"`` or an
    #: ``(x, y)`` point in 0–1 image coordinates (see ``Scene.focus``)
    focus: str | tuple[float, float] = "auto"

    @property
    def frames(self) -> int:
        """Exact frame count the clip must have: ``frame_count`` when the pipeline
        set it (drift-free rounding along the timeline), else ``round(duration·fps)``."""
        return self.frame_count if self.frame_count is not None else self.settings.frames(
            self.duration)


@attrs.frozen
class RenderedClip:
    """A finished clip file and what the renderer has to say about it."""

    path: Path
    frames: int
    duration: float
    warnings: tuple[str, ...] = ()
    #: the renderer that made the clip when not the one asked (a fallback's name)
    renderer: str = ""


class ClipRenderer(Protocol):
    """Turns one image into one encoded clip (Ken Burns, ComfyUI...)."""

    name: str

    def render(
        self,
        request: ClipRequest,
        output_path: Path,
        *,
        progress: FractionCallback | None = None,
        cancel: CancelToken | None = None,
    ) -> RenderedClip:
        """Write the clip to ``output_path`` (atomically) and describe it.

        Raises InvalidImage for an unusable image, RenderFailed when the
        mechanism fails, ServiceUnavailable when a backend does not answer,
        Cancelled when ``cancel`` fires.
        """
        ...


@runtime_checkable
class FrameSource(Protocol):
    """A clip that is not encoded yet: its frames, produced on demand.

    A streaming renderer hands these to the muxer instead of clip files; the
    muxer then encodes the whole video once, in one encoder, with the
    transitions blended from the raw frames (no clip files, no re-encoded
    transition pieces). Frames are raw ``yuv420p`` of the plan's size.
    """

    @property
    def frame_count(self) -> int:
        """How many frames :meth:`open` yields."""
        ...

    def prepare(self) -> None:
        """Do the slow set-up (decode the image...) ahead of :meth:`open`; idempotent.
        Raises InvalidImage for an unusable image."""
        ...

    def open(self) -> Iterator[bytes]:
        """The frames in order; closing the iterator early frees what it holds."""
        ...


@runtime_checkable
class StreamingClipRenderer(Protocol):
    """A ``ClipRenderer`` that can also stream a clip's frames (see :class:`FrameSource`)."""

    name: str

    def stream(self, request: ClipRequest) -> FrameSource:
        """A lazy source of ``request.frames`` frames; checks the image is usable
        (InvalidImage naming it) but does not render anything yet."""
        ...


# ----------------------------------------------------------------- narration
@attrs.frozen
class Word:
    """One spoken word of a cue: ``text`` from ``start`` to ``end`` seconds."""

    start: float
    end: float
    text: str

    def shifted(self, offset: float) -> Word:
        """The same word ``offset`` seconds later."""
        return Word(self.start + offset, self.end + offset, self.text)


@attrs.frozen
class Cue:
    """A caption cue: ``text`` spoken from ``start`` to ``end`` seconds; ``words``
    (when the narrator timed them) are its whitespace-separated words in order."""

    start: float
    end: float
    text: str
    words: tuple[Word, ...] = ()

    def shifted(self, offset: float) -> Cue:
        """The same cue (and its words) ``offset`` seconds later."""
        return Cue(self.start + offset, self.end + offset, self.text,
                   tuple(w.shifted(offset) for w in self.words))


@attrs.frozen
class Narration:
    """Synthesised speech: a WAV file, its length, and cue timings relative to its start."""

    path: Path | None
    duration: float
    sample_rate: int = 22050
    cues: tuple[Cue, ...] = ()
    voice: str = ""
    provider: str = ""
    warnings: tuple[str, ...] = ()


class Narrator(Protocol):
    """Text-to-speech. Empty text gives silence (``path`` None, duration 0), never an error."""

    name: str

    def voices(self) -> list[str]:
        """Names of the voices this narrator can speak with."""
        ...

    def synthesize(
        self, text: str, output_path: Path, *, voice: str | None = None, speed: float = 1.0,
        seed: int | None = None, cancel: CancelToken | None = None,
    ) -> Narration:
        """Speak ``text`` into a WAV at ``output_path``; ``speed`` > 1 speaks faster,
        pitch preserved. Unknown voice → UnknownVoice; engine down → ServiceUnavailable.

        The same text, voice, speed and ``seed`` give the same audio where the
        engine allows (None: a seed derived from the text). Long text is spoken
        piece by piece; ``cancel`` is checked between pieces (Cancelled, no file)."""
        ...


# --------------------------------------------------------------------- music
@attrs.frozen
class MusicBed:
    """A music file for one mood span; ``mood`` is the mood actually used."""

    path: Path
    duration: float
    mood: str
    warnings: tuple[str, ...] = ()


class MusicSource(Protocol):
    """Background music by mood, deterministic by seed."""

    name: str

    def moods(self) -> list[str]:
        """Moods this source knows."""
        ...

    def compose(self, mood: str, duration: float, output_path: Path, *, seed: int,
                cancel: CancelToken | None = None) -> MusicBed:
        """Write a bed of at least ``duration`` seconds (WAV) for ``mood``.
        An unknown mood maps to the nearest known one, with a warning.
        ``cancel`` is checked between blocks of audio (Cancelled)."""
        ...


# ----------------------------------------------------------------------- mux
@attrs.frozen
class NarrationPlacement:
    """A narration file placed at ``start`` seconds of the video."""

    path: Path
    start: float
    duration: float


@attrs.frozen
class MusicPlacement:
    """A music bed playing from ``start`` to ``end`` seconds; beds of adjacent
    spans overlap by the crossfade and are crossfaded by the muxer."""

    path: Path
    start: float
    end: float
    mood: str = ""


@attrs.frozen
class Chapter:
    """A chapter of the final file (one per scene): ``title`` from ``start`` to ``end``."""

    start: float
    end: float
    title: str


@attrs.frozen
class MuxPlan:
    """Everything the muxer joins into the final file.

    ``caption_style`` is how burnt-in captions look (``subtitle``, ``karaoke``,
    ``bold``; see ``videogen_core.model.CAPTION_STYLES``) when ``burn_subtitles``;
    the soft track always keeps sentence cues. ``chapters`` go into the MP4;
    with ``poster`` (a ``(start, end)`` span of seconds) the muxer also writes a
    JPEG of a sharp frame from that span (``MuxResult.poster``).
    """

    timeline: Timeline
    #: one per scene: an encoded clip file, or a :class:`FrameSource` to stream
    clips: tuple[Path | FrameSource, ...]
    narrations: tuple[NarrationPlacement, ...] = ()
    music: tuple[MusicPlacement, ...] = ()
    cues: tuple[Cue, ...] = ()
    video: VideoSettings = attrs.field(factory=VideoSettings)
    audio: AudioSettings = attrs.field(factory=AudioSettings)
    soft_subtitles: bool = True
    burn_subtitles: bool = False
    caption_style: str = "subtitle"
    chapters: tuple[Chapter, ...] = ()
    poster: tuple[float, float] | None = None
    #: ``stream``: the whole video through one encoder (clip files decoded into
    #: it); ``chunked``: cut at ``Timeline.chunk_bounds``, each chunk encoded apart
    #: (from the cache when its key is there) and joined by stream copy
    render_mode: str = "stream"
    #: one per scene: a hash of everything that decides the scene's frames (image
    #: bytes, request, renderer + version); chunk cache keys are built from them.
    #: Empty: chunks are not cached (one empty key: the chunks touching that scene).
    scene_keys: tuple[str, ...] = ()


@attrs.frozen
class MuxResult:
    """The final file and its measured facts."""

    path: Path
    duration: float
    frames: int = 0
    loudness_lufs: float | None = None
    true_peak_db: float | None = None
    warnings: tuple[str, ...] = ()
    #: the poster JPEG (beside the video) when the plan asked for one
    poster: Path | None = None


#: The share of a streamed mux's progress (clips given as frame sources) that is
#: the encode, which makes the frames; the rest is the final stream-copy mux. The
#: muxer reports ``STREAM_ENCODE_SHARE · fraction encoded``, and the pipeline
#: shows that part as the ``render`` stage.
STREAM_ENCODE_SHARE = 0.97


class Muxer(Protocol):
    """Joins clips with transitions and mixes audio into one MP4."""

    def mux(
        self,
        plan: MuxPlan,
        output_path: Path,
        *,
        executor: Executor | None = None,
        progress: FractionCallback | None = None,
        cancel: CancelToken | None = None,
    ) -> MuxResult:
        """Write the final video atomically; RenderFailed (with ffmpeg's stderr tail) on failure."""
        ...


# ------------------------------------------------------------------- storage
@attrs.frozen
class StoredObject:
    """An object in storage: its key, size and content type, and when it was last
    written (``modified``, POSIX seconds by the backend's clock; None when unknown).
    ``modified`` is left out of equality: it describes a write, not the object."""

    key: str
    size: int = 0
    content_type: str = "application/octet-stream"
    modified: float | None = attrs.field(default=None, eq=False)


class Storage(Protocol):
    """Where images come from and finished videos go (local disk, S3, GCS, memory).

    Keys are ``/``-separated relative paths such as ``"folder/scene_1.png"``;
    every adapter confines them to its root (PathNotAllowed otherwise) and
    translates backend failures into StorageFailed / NotFound.
    """

    name: str

    def list_images(self, folder_id: str) -> list[str]:
        """Keys of the images (png, jpg, jpeg, webp, bmp, tif, tiff, gif) directly in
        ``folder_id``, in natural sort order; NotFound when the folder does not exist."""
        ...

    def fetch(self, key: str, destination: Path) -> Path:
        """Copy the object to a local path; NotFound when it does not exist."""
        ...

    def put(self, source: Path, key: str, content_type: str = "application/octet-stream") -> str:
        """Store a local file under ``key`` (atomically: never a half object); return the key."""
        ...

    def url(self, key: str) -> str:
        """A URL from which the object can be downloaded."""
        ...

    def exists(self, key: str) -> bool:
        """Whether an object is stored under ``key``."""
        ...

    def delete(self, key: str) -> None:
        """Remove the object; no error when it is already gone."""
        ...


# ----------------------------------------------------------------- execution
class Executor(Protocol):
    """Runs independent work in parallel (thread pool by default).

    An executor shared by several jobs may also offer ``lane(key) -> Executor``:
    the pipeline then submits each run's work through its own lane, and the
    executor takes turns between lanes so that no job starves the others."""

    def submit(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> Future[T]:
        """Schedule ``fn(*args, **kwargs)``."""
        ...


@runtime_checkable
class ProgressSink(Protocol):
    """Receives progress events (the CLI draws bars, the job API stores them)."""

    def __call__(self, event: ProgressEvent) -> None: ...


# ---------------------------------------------------------------------- jobs
@attrs.frozen
class JobRecord:
    """A job as the job store keeps it."""

    id: str
    folder_id: str
    request: Mapping[str, Any]
    status: str = "queued"  # queued | running | succeeded | failed | cancelled
    stage: str = ""
    percent: float = 0.0
    scenes_done: int = 0  # scenes rendered, never more than scenes_total
    scenes_total: int = 0
    eta_seconds: float | None = None
    warnings: tuple[str, ...] = ()
    result: Mapping[str, Any] | None = None
    error: Mapping[str, Any] | None = None
    idempotency_key: str | None = None
    created_at: float = 0.0
    updated_at: float = 0.0
    #: Set by ``DELETE /jobs/<id>`` for a job running in another process (a Celery
    #: worker); the process running it polls the store and stops the job.
    cancel_requested: bool = False
    #: Frames of the video encoded so far / in all, while a streamed render runs.
    frames_done: int = 0
    frames_total: int = 0
    #: The accepting API server's public base URL (local storage's video URLs and
    #: callback bodies use it, whichever process renders the job).
    base_url: str = ""


class JobStore(Protocol):
    """Durable job records (SQLite embedded, Redis for scale-out)."""

    def create(self, job: JobRecord, *, limit: int | None = None) -> JobRecord:
        """Store a new job; with an ``idempotency_key`` already known, return that job instead.

        With ``limit``, Busy (nothing stored, the key not taken) when ``limit``
        jobs are already in the new job's status: the check and the insert are
        one atomic step, also between processes sharing the store, so servers
        accepting at the same instant cannot pass a queue bound together."""
        ...

    def get(self, job_id: str) -> JobRecord:
        """The job; NotFound when unknown."""
        ...

    def update(self, job_id: str, **changes: Any) -> JobRecord:
        """Change fields of a job and return the new record."""
        ...

    def list(self, statuses: Iterable[str] = ()) -> list[JobRecord]:
        """Jobs, optionally only those in ``statuses``, oldest first."""
        ...

    def count(self, status: str) -> int:
        """How many jobs are in ``status`` now (``count("queued")``: jobs waiting),
        without loading them: the remote-mode queue bound asks it on every new job."""
        ...

    def update_if(self, job_id: str, expected: Mapping[str, Any], **changes: Any
                  ) -> JobRecord | None:
        """Apply ``changes`` only if the job's fields still equal ``expected``
        (compare-and-set, atomic also between processes); None when they do not."""
        ...

    def delete(self, job_id: str) -> None:
        """Forget a job (a submission that could not be queued); no error when unknown."""
        ...

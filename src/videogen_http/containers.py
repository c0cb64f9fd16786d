"""The dependency-injector container: every adapter chosen from configuration.

Each port has a ``providers.Selector`` keyed by its ``Settings`` field
(``VIDEOGEN_STORAGE``, ``_RENDERER``, ``_NARRATOR``, ``_MUSIC``,
``_EXECUTOR``, ``_JOB_STORE``); each branch is a lazy ``Singleton`` over the
adapters' own factory functions, so nothing is imported or built until a
provider is first called. ``dispatcher`` is None with the thread executor and
a Celery job dispatcher with ``VIDEOGEN_EXECUTOR=celery``. Tests override providers::

    container = Container(settings=providers.Object(Settings(storage="memory")))
    container.pipeline.override(providers.Object(my_pipeline))
"""

from __future__ import annotations

from typing import Any

from dependency_injector import containers, providers

from videogen_adapters.config import Settings
from videogen_jobs.callbacks import CallbackSender

__all__ = ["Container"]


# Lazy factories: importing this module imports no adapter.
def _storage(settings: Settings, public_base_url: str) -> Any:
    from videogen_adapters.storage import build_storage

    return build_storage(settings, public_base_url=public_base_url or None)


def _memory_storage() -> Any:
    from videogen_adapters.storage import InMemoryStorage

    return InMemoryStorage()


def _renderer(settings: Settings) -> Any:
    from videogen_adapters.orchestrator import build_renderer

    return build_renderer(settings)


def _narrator(settings: Settings) -> Any:
    from videogen_adapters.orchestrator import cached_narrator
    from videogen_adapters.tts import build_narrator

    return cached_narrator(settings, build_narrator(settings))


def _music(settings: Settings) -> Any:
    from videogen_adapters.music import build_music_source
    from videogen_adapters.orchestrator import cached_music

    return cached_music(settings, build_music_source(settings))


def _muxer(settings: Settings) -> Any:
    from videogen_adapters.orchestrator import build_muxer

    return build_muxer(settings)


def _executor(settings: Settings) -> Any:
    from videogen_adapters.orchestrator import build_executor

    return build_executor(settings)


def _celery_dispatcher(settings: Settings, public_base_url: str = "") -> Any:
    from videogen_adapters.executors.celery import CeleryJobDispatcher, make_celery_app

    return CeleryJobDispatcher(make_celery_app(settings), base_url=public_base_url)


def _job_store(settings: Settings) -> Any:
    from videogen_adapters.jobs import build_job_store

    return build_job_store(settings)


def _memory_jobs() -> Any:
    from videogen_adapters.jobs import InMemoryJobStore

    return InMemoryJobStore()


def _pipeline(settings: Settings, **adapters: Any) -> Any:
    from videogen_adapters.orchestrator import build_pipeline

    return build_pipeline(settings, **adapters)


class Container(containers.DeclarativeContainer):
    """Providers of every adapter, the pipeline, the job store and the callback sender."""

    settings = providers.Dependency(instance_of=Settings)
    public_base_url = providers.Object("")

    storage = providers.Selector(
        settings.provided.storage,
        local=providers.Singleton(_storage, settings, public_base_url),
        s3=providers.Singleton(_storage, settings, public_base_url),
        gcs=providers.Singleton(_storage, settings, public_base_url),
        firebase=providers.Singleton(_storage, settings, public_base_url),
        memory=providers.Singleton(_memory_storage),
    )
    renderer = providers.Selector(
        settings.provided.renderer,
        kenburns=providers.Singleton(_renderer, settings),
        comfyui=providers.Singleton(_renderer, settings),
    )
    narrator = providers.Selector(
        settings.provided.narrator,
        piper=providers.Singleton(_narrator, settings),
        espeak=providers.Singleton(_narrator, settings),
        http=providers.Singleton(_narrator, settings),
        chain=providers.Singleton(_narrator, settings),
        silent=providers.Singleton(_narrator, settings),
    )
    music = providers.Selector(
        settings.provided.music,
        synth=providers.Singleton(_music, settings),
        library=providers.Singleton(_music, settings),
        none=providers.Object(None),
    )
    muxer = providers.Singleton(_muxer, settings)
    executor = providers.Selector(
        settings.provided.executor,
        threads=providers.Singleton(_executor, settings),
        celery=providers.Singleton(_executor, settings),
    )
    dispatcher = providers.Selector(
        settings.provided.executor,
        threads=providers.Object(None),
        celery=providers.Singleton(_celery_dispatcher, settings, public_base_url),
    )
    job_store = providers.Selector(
        settings.provided.job_store,
        sqlite=providers.Singleton(_job_store, settings),
        memory=providers.Singleton(_memory_jobs),
        redis=providers.Singleton(_job_store, settings),
    )
    pipeline = providers.Singleton(
        _pipeline, settings, storage=storage, renderer=renderer, narrator=narrator,
        music=music, muxer=muxer, executor=executor,
    )
    callbacks = providers.Singleton(
        CallbackSender, settings.provided.callback_secret,
        allow_private=settings.provided.callback_allow_private,
    )

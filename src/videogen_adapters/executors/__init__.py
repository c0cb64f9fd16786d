"""Executors: where parallel work runs (threads by default, Celery for scale-out)."""

from .threads import InlineExecutor, ThreadPoolExecutorAdapter

__all__ = ["InlineExecutor", "ThreadPoolExecutorAdapter"]

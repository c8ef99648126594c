"""One batch job — a replay, an escalation sweep — reads slow-changing configuration once.

Inside ``batch_job()``, code that reads configuration the job itself never changes (warning rules,
departments, categories) may keep what it read in ``batch_cache(name)``: a dict private to
``name``, or None outside a job, where every read goes to the database. A job lasts seconds, so an
administrator's edit made meanwhile takes effect from the next job. Jobs do not nest: an inner
``batch_job()`` shares the outer one's cache.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

_CACHE: ContextVar[dict | None] = ContextVar("kuaixiang_batch_cache", default=None)


@contextmanager
def batch_job() -> Iterator[None]:
    if _CACHE.get() is not None:
        yield
        return
    token = _CACHE.set({})
    try:
        yield
    finally:
        _CACHE.reset(token)


def batch_cache(name: str) -> dict | None:
    cache = _CACHE.get()
    return None if cache is None else cache.setdefault(name, {})

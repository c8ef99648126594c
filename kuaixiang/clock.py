"""The one injectable clock. Production reads the wall clock; tests and drills move it.

Code asks ``clock.now()`` instead of ``timezone.now()`` so that a test can travel in time
(``time-machine``) and a drill can replay a surge at its own pace.
"""

from collections.abc import Callable
from contextlib import contextmanager
from datetime import datetime
from zoneinfo import ZoneInfo

from django.utils import timezone

SHANGHAI = ZoneInfo("Asia/Shanghai")

_override: Callable[[], datetime] | None = None


def now() -> datetime:
    """Return the current aware UTC instant."""
    return _override() if _override else timezone.now()


def local_now() -> datetime:
    return now().astimezone(SHANGHAI)


@contextmanager
def frozen(at: datetime):
    """Make ``now()`` return ``at`` inside the block."""
    with driven(lambda: at):
        yield


@contextmanager
def driven(source: Callable[[], datetime | None]):
    """Make ``now()`` return ``source()`` inside the block — or, when that is None, what it returned
    outside: a replay moving its own time while it registers."""
    global _override
    previous = _override

    def read() -> datetime:
        at = source()
        if at is not None:
            return at
        return previous() if previous else timezone.now()

    _override = read
    try:
        yield
    finally:
        _override = previous

"""Readable complaint numbers: ``TS`` + Shanghai date + 6-digit daily sequence.

Numbers are allocated from one counter row per day, incremented with a single UPDATE in
the caller's transaction: concurrent writers queue on that row, so no two complaints get
the same number on SQLite or PostgreSQL, and a rolled-back transaction gives its numbers back.
"""

from datetime import date

from django.db.models import F

from kuaixiang import clock
from kuaixiang.complaints.models import DailySequence

PREFIX = "TS"


def format_number(day: date, seq: int) -> str:
    return f"{PREFIX}{day:%Y%m%d}{seq:06d}"


def allocate_numbers(count: int = 1) -> list[str]:
    """Reserve ``count`` consecutive numbers for today (Asia/Shanghai). Call inside a transaction."""
    day = clock.local_now().date()
    DailySequence.objects.bulk_create([DailySequence(day=day, last=0)], ignore_conflicts=True)
    DailySequence.objects.filter(day=day).update(last=F("last") + count)
    last = DailySequence.objects.values_list("last", flat=True).get(day=day)
    return [format_number(day, seq) for seq in range(last - count + 1, last + 1)]

"""Readable complaint numbers: ``TS`` + Shanghai date + 6-digit daily sequence.

Numbers are allocated from one counter row per day, incremented in the caller's transaction:
concurrent writers queue on that row, so no two complaints get the same number on SQLite or
PostgreSQL, and a rolled-back transaction gives its numbers back.
"""

from datetime import date

from django.db import connection

from kuaixiang import clock
from kuaixiang.complaints.models import DailySequence

PREFIX = "TS"


def format_number(day: date, seq: int) -> str:
    return f"{PREFIX}{day:%Y%m%d}{seq:06d}"


def allocate_numbers(count: int = 1) -> list[str]:
    """Reserve ``count`` consecutive numbers for today (Asia/Shanghai). Call inside a transaction."""
    day = clock.local_now().date()
    # One upsert statement (PostgreSQL, SQLite >= 3.35): every create waits for this row's lock
    # until it commits, so the counter costs one round trip, not three, inside that window.
    table = connection.ops.quote_name(DailySequence._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (day, last) VALUES (%s, %s) "  # noqa: S608  (table name from the model)
            f"ON CONFLICT (day) DO UPDATE SET last = {table}.last + excluded.last RETURNING last",
            [connection.ops.adapt_datefield_value(day), count],
        )
        (last,) = cursor.fetchone()
    return [format_number(day, seq) for seq in range(last - count + 1, last + 1)]

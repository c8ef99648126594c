"""Indexes for the department queue (both databases) and keyword search (PostgreSQL).

Measured with ``make bench`` at one million complaints (see ``benchmarks/README.md``).
These indexes live only in this migration, not in ``Complaint.Meta``; the ORM never names them.
Caveat: on SQLite, Django rebuilds a table for some later ``AlterField`` migrations and recreates
only the indexes of the model state, which would drop ``complaint_dept_recent`` — it belongs in
``Complaint.Meta.indexes`` (``Index(fields=["department", "-received_at", "-id"])``) when that
file is next changed, with this migration's SQL for it removed.

- ``complaint_dept_recent`` (department, received_at DESC, id DESC): a department's queue is
  ``department_id = X AND status IN (open states) ORDER BY received_at DESC, id DESC``. With
  only ``complaint_dept_queue`` (department, status, received_at) SQLite fetched every open
  row of the department and sorted them (~110 ms at 1M rows); this index walks the department
  newest first and stops after one page (~1 ms).
- ``selectors._search`` filters ``description__icontains | subject__icontains |
  complainant_name=``, which Django renders as ``UPPER(col::text) LIKE UPPER('%…%')``.
  Trigram GIN indexes on exactly those expressions, plus a B-tree on ``complainant_name``,
  let PostgreSQL answer the three-way OR with a BitmapOr instead of scanning every row: a
  keyword of three or more characters goes from seconds to milliseconds. One- and
  two-character keywords have no trigram and still scan, newest first (frequent ones stop
  early). ``pg_trgm`` is a trusted extension (PostgreSQL 13+): the database owner may create it.
"""

from django.db import migrations

TABLE = "complaints_complaint"
BOTH = [("complaint_dept_recent", "(department_id, received_at DESC, id DESC)")]
POSTGRESQL = [
    ("complaint_description_trgm", "USING gin (upper(description) gin_trgm_ops)"),
    ("complaint_subject_trgm", "USING gin (upper(subject::text) gin_trgm_ops)"),
    ("complaint_complainant_name", "(complainant_name)"),
]


def _indexes(vendor: str) -> list[tuple[str, str]]:
    return BOTH + (POSTGRESQL if vendor == "postgresql" else [])


def create(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for name, definition in _indexes(vendor):
        schema_editor.execute(f"CREATE INDEX IF NOT EXISTS {name} ON {TABLE} {definition}")


def drop(apps, schema_editor):
    for name, _ in _indexes(schema_editor.connection.vendor):
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [("complaints", "0001_initial")]

    operations = [migrations.RunPython(create, drop, elidable=False)]

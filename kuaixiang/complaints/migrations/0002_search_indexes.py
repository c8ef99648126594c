"""Indexes for keyword search on PostgreSQL (SQLite migrates with no change).

``selectors._search`` filters ``description__icontains | subject__icontains | complainant_name=``,
which Django renders as ``UPPER(col::text) LIKE UPPER('%…%')``. Trigram GIN indexes on exactly
those expressions, plus a B-tree on ``complainant_name``, let PostgreSQL answer the three-way
OR with a BitmapOr instead of reading every row: a rare keyword of three or more characters
at one million complaints goes from a sequential scan (seconds) to milliseconds. Keywords of
one or two characters have no trigram and still scan (newest first, so frequent ones stop early).

``pg_trgm`` is a trusted extension (PostgreSQL 13+): the database owner may create it.
"""

from django.db import migrations

TABLE = "complaints_complaint"
INDEXES = [
    ("complaint_description_trgm", "USING gin (upper(description) gin_trgm_ops)"),
    ("complaint_subject_trgm", "USING gin (upper(subject::text) gin_trgm_ops)"),
    ("complaint_complainant_name", "(complainant_name)"),
]


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for name, definition in INDEXES:
        schema_editor.execute(f"CREATE INDEX IF NOT EXISTS {name} ON {TABLE} {definition}")


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, _ in INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [("complaints", "0001_initial")]

    operations = [migrations.RunPython(create, drop, elidable=False)]

"""Insert many new rows of one model in few statements: ``rows_insert(objs)``.

Registration writes a complaint, its timeline event and five SLA stages per item, hundreds at a
time in a replay. ``bulk_create`` prepares each value through the ORM's insert compiler and, on
PostgreSQL, sends it inside one array per column that psycopg escapes element by element in
Python; that was most of a replay's time on PostgreSQL. Here each value is prepared once (taken
as it is for strings, numbers and booleans, which must hold their field's Python type;
``get_db_prep_save`` for the rest) and rows go by ``COPY … FROM STDIN`` on PostgreSQL (psycopg
formats the rows in C) or by multi-row ``INSERT`` elsewhere. Model ``save()`` hooks and signals do
not run, as with ``bulk_create``; every concrete column is written, so Python defaults apply and
``db_default`` does not.
"""

from __future__ import annotations

from django.db import models, transaction


def rows_insert(objs: list[models.Model], *, with_ids: bool = False) -> None:
    """Insert ``objs`` (instances of one model, not yet saved). With ``with_ids`` each gets its
    primary key (elsewhere than PostgreSQL through ``bulk_create``, whose ``RETURNING`` is cheap
    there); otherwise their ids are not read back."""
    if not objs:
        return
    connection = transaction.get_connection()  # the connection itself, not the per-thread proxy
    model = type(objs[0])
    meta = model._meta
    postgres = connection.vendor == "postgresql"
    if with_ids and not postgres:
        model._base_manager.bulk_create(objs)
        return
    fields = [f for f in meta.concrete_fields if not f.primary_key]
    if with_ids:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
                [meta.db_table, meta.pk.column, len(objs)],
            )
            for obj, (pk,) in zip(objs, sorted(cursor.fetchall()), strict=True):
                obj.pk = pk
        fields.insert(0, meta.pk)
    prepare = [(f.attname, _preparer(f, connection)) for f in fields]
    rows = [[p(getattr(obj, a)) if p else getattr(obj, a) for a, p in prepare] for obj in objs]
    quote = connection.ops.quote_name
    table = quote(meta.db_table)
    columns = ", ".join(quote(f.column) for f in fields)
    with connection.cursor() as cursor:
        if postgres:
            # Only quoted model identifiers are interpolated; the values go as COPY data. Errors
            # surface as Django's (IntegrityError …), as from any other statement.
            with connection.wrap_database_errors, cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            one = "(" + ", ".join(["%s"] * len(fields)) + ")"
            size = min(500, _params_limit(connection) // len(fields))
            for start in range(0, len(rows), size):
                chunk = rows[start : start + size]
                sql = f"INSERT INTO {table} ({columns}) VALUES " + ", ".join([one] * len(chunk))  # noqa: S608
                cursor.execute(sql, [value for row in chunk for value in row])
    for obj in objs:
        obj._state.adding = False
        obj._state.db = connection.alias


# Fields whose values the drivers take as they are, when they hold their own Python type.
_AS_IS = (models.CharField, models.TextField, models.IntegerField, models.BooleanField, models.ForeignKey)


def _preparer(field: models.Field, connection):
    """How to prepare a value of ``field`` for the database: None when it goes as it is."""
    if isinstance(field, models.DateTimeField):
        return connection.ops.adapt_datetimefield_value
    if isinstance(field, _AS_IS):
        return None
    return lambda value: field.get_db_prep_save(value, connection)


def _params_limit(connection) -> int:
    """How many parameters one statement may carry (SQLite's own limit, often 32,766, rather than
    the 999 Django assumes for its oldest supported version)."""
    if connection.vendor == "sqlite":
        import sqlite3

        connection.ensure_connection()
        return connection.connection.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)
    return connection.features.max_query_params or 65_535

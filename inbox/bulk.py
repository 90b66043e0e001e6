"""Set-based writes for the ingest hot path.

- ``insert_ignore_returning``: ``INSERT … ON CONFLICT DO NOTHING RETURNING``. Django's
  ``bulk_create(ignore_conflicts=True)`` cannot tell which rows were new, and ingest needs exactly
  that (to update only the tickets that got a new message, and to count duplicates).
- ``update_rows``: write some fields of many rows in one statement. Django's ``bulk_update``
  builds one ``CASE WHEN`` per field over every row, which costs more than the rest of a
  500-message batch together.

On PostgreSQL both send one array per column and expand it with ``unnest`` — the statement has a
constant size whatever the batch, so the driver and the server parse and plan it cheaply. On
SQLite (the embedded default) they use a multi-row ``VALUES`` list, which SQLite 3.35+ accepts
with the same ``ON CONFLICT … RETURNING`` and ``UPDATE … FROM`` forms.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from django.db import connection, models
from psycopg.types.json import Jsonb

# SQLite allows 32,766 bound parameters per statement.
_MAX_PARAMS = 30_000

_PLAIN = (
    models.CharField,
    models.TextField,
    models.IntegerField,
    models.BooleanField,
    models.FloatField,
    models.ForeignKey,
    models.BigAutoField,
    models.AutoField,
)


def _adapter(field: models.Field) -> Callable[[Any], Any]:
    """How to turn one attribute value into a PostgreSQL array element, cheaply.

    Plain types need nothing (psycopg adapts them); aware datetimes pass as they are; JSON gets
    its wrapper. Anything else takes Django's own path.
    """
    if type(field).__module__.startswith("django.db.models"):  # Django's own, not a subclass
        if isinstance(field, models.JSONField):
            return lambda value: None if value is None else Jsonb(value)
        if isinstance(field, (models.DateTimeField, *_PLAIN)):
            return lambda value: value
    return lambda value: field.get_db_prep_save(value, connection)


def _pg_type(field: models.Field) -> str:
    if isinstance(field, models.ForeignKey):
        return field.target_field.cast_db_type(connection)
    return field.cast_db_type(connection)


def _columns(objs: Sequence[models.Model], fields: Sequence[models.Field]) -> list[list[Any]]:
    adapters = [(_adapter(f), f.attname) for f in fields]
    return [[adapt(getattr(obj, attname)) for obj in objs] for adapt, attname in adapters]


def insert_ignore_returning(
    objs: Sequence[models.Model], *, conflict_fields: Sequence[str], returning: Sequence[str]
) -> list[tuple]:
    """Insert ``objs``; rows that hit the unique ``conflict_fields`` are skipped.

    Returns one tuple of ``returning`` columns per row actually inserted.
    """
    if not objs:
        return []
    meta = objs[0]._meta
    fields = [f for f in meta.concrete_fields if not f.primary_key]
    qn = connection.ops.quote_name
    table = qn(meta.db_table)
    columns = ", ".join(qn(f.column) for f in fields)
    conflict = ", ".join(qn(meta.get_field(name).column) for name in conflict_fields)
    returned = ", ".join(qn(meta.get_field(name).column) for name in returning)
    tail = f" ON CONFLICT ({conflict}) DO NOTHING RETURNING {returned}"
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            arrays = ", ".join(f"%s::{_pg_type(f)}[]" for f in fields)
            cursor.execute(
                f"INSERT INTO {table} ({columns}) SELECT * FROM unnest({arrays})" + tail,  # noqa: S608
                _columns(objs, fields),
            )
            return cursor.fetchall()
        inserted: list[tuple] = []
        row_sql = "(" + ", ".join(["%s"] * len(fields)) + ")"
        per_statement = max(1, _MAX_PARAMS // len(fields))
        for start in range(0, len(objs), per_statement):
            chunk = objs[start : start + per_statement]
            params = [
                f.get_db_prep_save(getattr(o, f.attname), connection) for o in chunk for f in fields
            ]
            cursor.execute(
                f"INSERT INTO {table} ({columns}) VALUES "  # noqa: S608 - names only
                + ", ".join([row_sql] * len(chunk))
                + tail,
                params,
            )
            inserted.extend(cursor.fetchall())
    return inserted


def update_rows(objs: Sequence[models.Model], fields: Sequence[str]) -> int:
    """Write ``fields`` of each object back, joined on the primary key, in one statement."""
    if not objs:
        return 0
    meta = objs[0]._meta
    qn = connection.ops.quote_name
    pk = meta.pk
    targets = [meta.get_field(name) for name in fields]
    columns = [pk, *targets]
    table = qn(meta.db_table)
    names = ", ".join(qn(f.column) for f in columns)
    assignments = ", ".join(f"{qn(f.column)} = v.{qn(f.column)}" for f in targets)
    where = f"WHERE {table}.{qn(pk.column)} = v.{qn(pk.column)}"
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            arrays = ", ".join(f"%s::{_pg_type(f)}[]" for f in columns)
            cursor.execute(
                f"UPDATE {table} SET {assignments} "  # noqa: S608 - names only
                f"FROM unnest({arrays}) AS v ({names}) {where}",
                _columns(objs, columns),
            )
            return cursor.rowcount
        updated = 0
        row_sql = "(" + ", ".join(["%s"] * len(columns)) + ")"
        per_statement = max(1, _MAX_PARAMS // len(columns))
        for start in range(0, len(objs), per_statement):
            chunk = objs[start : start + per_statement]
            params = [
                f.get_db_prep_save(getattr(o, f.attname), connection)
                for o in chunk
                for f in columns
            ]
            cursor.execute(
                f"WITH v ({names}) AS (VALUES {', '.join([row_sql] * len(chunk))}) "  # noqa: S608
                f"UPDATE {table} SET {assignments} FROM v {where}",
                params,
            )
            updated += cursor.rowcount
    return updated

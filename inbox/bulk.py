"""``INSERT … ON CONFLICT DO NOTHING RETURNING`` for the ingest hot path.

Django's ``bulk_create(ignore_conflicts=True)`` cannot tell which rows were new, and ingest needs
exactly that (to update only the tickets that got a new message, and to count duplicates). The
statement below is the same on PostgreSQL and SQLite (3.35+), so both backends share one path.
Values are prepared by each field's own ``get_db_prep_save``, as Django itself would.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.db import connection, models

# SQLite allows 32,766 bound parameters per statement; PostgreSQL 65,535.
_MAX_PARAMS = 30_000


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
    columns = ", ".join(qn(f.column) for f in fields)
    conflict = ", ".join(qn(meta.get_field(name).column) for name in conflict_fields)
    returned = ", ".join(qn(meta.get_field(name).column) for name in returning)
    row_sql = "(" + ", ".join(["%s"] * len(fields)) + ")"
    per_statement = max(1, _MAX_PARAMS // len(fields))
    inserted: list[tuple] = []
    with connection.cursor() as cursor:
        for start in range(0, len(objs), per_statement):
            chunk = objs[start : start + per_statement]
            params: list = []
            for obj in chunk:
                params.extend(
                    f.get_db_prep_save(getattr(obj, f.attname), connection) for f in fields
                )
            sql = (
                f"INSERT INTO {qn(meta.db_table)} ({columns}) VALUES "  # noqa: S608 - names only
                + ", ".join([row_sql] * len(chunk))
                + f" ON CONFLICT ({conflict}) DO NOTHING RETURNING {returned}"
            )
            cursor.execute(sql, params)
            inserted.extend(cursor.fetchall())
    return inserted

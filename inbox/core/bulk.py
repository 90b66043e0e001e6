"""Set-based reads and writes for the ingest hot path, fed with plain columns, not model objects.

- ``insert_rows``: ``INSERT … [ON CONFLICT DO NOTHING] RETURNING``. Django's
  ``bulk_create(ignore_conflicts=True)`` cannot tell which rows were new, and ingest needs exactly
  that (to update only the tickets that got a new message, and to count duplicates).
- ``update_rows``: write some columns of many rows in one statement. Django's ``bulk_update``
  builds one ``CASE WHEN`` per field over every row, which costs more than the rest of a
  500-message batch together.
- ``reserve_ids``: ids for rows about to be inserted, so rows that refer to them can be written
  first (ingest sends a batch's messages before its new tickets, see ``pipeline``).
- ``pipeline``: statements sent without waiting for their results (psycopg's pipeline mode), so
  PostgreSQL runs one while Python works on the next; ``send_rows`` is ``insert_rows`` returning
  a function that fetches the inserted rows when they are needed.
- ``any_of``: a ``column IN (values)`` test with one parameter, whatever the number of values;
  ``AnyOf`` is the same test as an ORM lookup on id columns (``pk__any_of=[...]``).

Callers pass one list per column (``{"text": [...], "sent_at": [...]}``) built straight from their
data: creating a model instance costs about 45 µs, more than storing its row. Fields a caller
leaves out get the model's default, evaluated once per statement, so a field added to a model
later is filled without touching ingest.

On PostgreSQL each column goes as one binary array parameter, expanded with ``unnest``; JSON
columns go as one ``jsonb`` document expanded with ``jsonb_array_elements``. The statement has a
constant size whatever the batch, and binary arrays skip the quoting and escaping a text array
literal needs (measured: 500 rows of 5 columns, 18 ms as text literals, 2 ms binary). These
statements use a server-side binding cursor of their own that never prepares; the rest of the
app uses Django's cursor (which also binds on the server, and may prepare). On SQLite (the
embedded default) they use a multi-row ``VALUES`` list and ``json_each``, which SQLite 3.38+
accepts with the same ``ON CONFLICT … RETURNING`` and ``UPDATE … FROM`` forms.
"""

from __future__ import annotations

import contextlib
import functools
import json
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any

import psycopg
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, models
from psycopg.types.json import Jsonb

# SQLite allows 32,766 bound parameters per statement.
_MAX_PARAMS = 30_000


def _is_pg() -> bool:
    return connection.vendor == "postgresql"


class _Unprepared(psycopg.Cursor):
    """Never a prepared statement: each run is planned for its own values. A list's id scans
    with a generic plan walked a whole queue (210 ms instead of 40), and ingest's statements
    differ in their arrays' sizes every batch."""

    def execute(self, query, params=None, *, prepare=None, binary=None):  # noqa: ARG002
        return super().execute(query, params, prepare=False, binary=binary)


def cursor():
    """A cursor for the statements here, through Django's wrapper (query logging, execute
    wrappers and ``django_assert_num_queries`` still see them).

    On PostgreSQL it binds parameters on the server, so ``%b`` sends arrays in binary, and it
    never prepares (``_Unprepared``).
    """
    if not _is_pg():
        return connection.cursor()
    connection.ensure_connection()
    connection.validate_thread_sharing()
    raw = _Unprepared(connection.connection)
    if connection.queries_logged:
        return connection.make_debug_cursor(raw)
    return connection.make_cursor(raw)


def _column_field(model: type[models.Model], name: str) -> models.Field:
    """The field of ``model`` named ``name`` ("pk": the primary key): a column of its table."""
    meta = model._meta
    field = meta.pk if name == "pk" else meta.get_field(name)
    assert isinstance(field, models.Field)
    return field


def _quoted(field: models.Field) -> str:
    """The field's column name, quoted for SQL."""
    assert field.column is not None  # every field _column_field returns is a column
    return connection.ops.quote_name(field.column)


@functools.cache
def _pg_type(field: models.Field) -> str:
    """The column's PostgreSQL type for a cast (asked about 90 times a batch: kept per field)."""
    column = field.target_field if isinstance(field, models.ForeignKey) else field
    db_type = column.cast_db_type(connection)
    assert db_type is not None  # a concrete column has a type
    return db_type


def _is_json(field: models.Field) -> bool:
    return isinstance(field, models.JSONField)


def _without_nul(value: Any) -> Any:
    if isinstance(value, str):
        return value.replace("\x00", "")
    if isinstance(value, dict):
        return {_without_nul(k): _without_nul(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_without_nul(v) for v in value]
    return value


def _pg_array(field: models.Field, values: list[Any]) -> tuple[str, Any]:
    """SQL (one set-returning function) and its parameter for one column."""
    if _is_json(field):
        if any(v is None for v in values):
            raise ValueError(f"{field.name}: JSON columns take no None here")
        document = json.dumps(values)
        if "\\u0000" in document:
            # jsonb refuses U+0000, which a broken or hostile payload may hold: drop it rather
            # than fail the batch for good.
            document = json.dumps(_without_nul(values))
        return "jsonb_array_elements(%s::jsonb)", document
    return f"unnest(%b::{_pg_type(field)}[])", values


def _pg_scalar(field: models.Field, value: Any) -> tuple[str, Any]:
    if _is_json(field):
        return "%b::jsonb", Jsonb(value)
    return f"%b::{_pg_type(field)}", value


def _sqlite_value(field: models.Field, value: Any) -> Any:
    if value is None:
        return None
    if _is_json(field):
        return json.dumps(value, cls=DjangoJSONEncoder)
    if isinstance(field, models.DateTimeField):
        return connection.ops.adapt_datetimefield_value(value)
    return value


def _split(model: type[models.Model], columns: Mapping[str, list[Any]], constants: Mapping):
    """The fields that vary per row, then every other field with its one value.

    A column whose values are all equal (no rating, no URL, all new) goes as one value: that
    saves dumping and unnesting an array, which is most of the cost of a column.
    """
    meta = model._meta
    given, rest = [], []
    for name, values in columns.items():
        field = _column_field(model, name)
        if _is_pg() and len(values) > 1 and values.count(values[0]) == len(values):
            rest.append((field, values[0]))
        else:
            given.append(field)
    if not given and rest:
        # Every column uniform: one must still go as an array, it gives the number of rows.
        given.append(rest.pop(0)[0])
    named = set(given) | {f for f, _ in rest}
    for field in meta.concrete_fields:
        if field.primary_key or field in named:
            continue
        rest.append(
            (field, constants[field.name] if field.name in constants else field.get_default())
        )
    return given, rest


def insert_rows(
    model: type[models.Model],
    columns: Mapping[str, list[Any]],
    *,
    constants: Mapping[str, Any] | None = None,
    conflict: Sequence[str] = (),
    skip_any_conflict: bool = False,
    returning: Sequence[str] = ("id",),
) -> list[tuple]:
    """Insert one row per position of the ``columns`` lists (all the same length).

    ``constants`` are values shared by every row; other fields get the model's default. With
    ``conflict`` (field names of a unique constraint), rows that hit it are skipped; with
    ``skip_any_conflict``, rows that hit any unique constraint or index (a partial unique index,
    which ``ON CONFLICT (columns)`` cannot name). Returns one tuple of ``returning`` columns per
    row actually inserted, in insertion order.
    """
    return send_rows(
        model,
        columns,
        constants=constants,
        conflict=conflict,
        skip_any_conflict=skip_any_conflict,
        returning=returning,
    )()


def _insert_tail(
    model: type[models.Model],
    conflict: Sequence[str],
    skip_any_conflict: bool,
    returning: Sequence[str],
) -> str:
    """The insert's ``ON CONFLICT … DO NOTHING`` and ``RETURNING`` clauses."""
    tail = ""
    if conflict:
        keys = ", ".join(_quoted(_column_field(model, name)) for name in conflict)
        tail = f" ON CONFLICT ({keys}) DO NOTHING"
    elif skip_any_conflict:
        tail = " ON CONFLICT DO NOTHING"
    if returning:
        tail += " RETURNING " + ", ".join(_quoted(_column_field(model, name)) for name in returning)
    return tail


def send_rows(
    model: type[models.Model],
    columns: Mapping[str, list[Any]],
    *,
    constants: Mapping[str, Any] | None = None,
    conflict: Sequence[str] = (),
    skip_any_conflict: bool = False,
    returning: Sequence[str] = ("id",),
) -> Callable[[], list[tuple]]:
    """``insert_rows``, returning a function that returns its rows. Inside ``pipeline()`` on
    PostgreSQL the statement is sent and runs while the caller goes on, and the function waits
    for it (call it before the pipeline ends); elsewhere the statement has run already."""
    names = list(columns)
    count = len(columns[names[0]]) if names else 0
    if count == 0:
        return lambda: []
    given, rest = _split(model, columns, constants or {})
    meta = model._meta
    qn = connection.ops.quote_name
    table = qn(meta.db_table)
    target = ", ".join(_quoted(f) for f in [*given, *(f for f, _ in rest)])
    tail = _insert_tail(model, conflict, skip_any_conflict, returning)
    if _is_pg():
        # Parameters in the order their placeholders appear: the constants, then the arrays.
        selects = [f"u.c{n}" for n in range(len(given))]
        params = []
        for field, value in rest:
            sql, param = _pg_scalar(field, value)
            selects.append(sql)
            params.append(param)
        sources = []
        for field in given:
            sql, param = _pg_array(field, columns[field.name])
            sources.append(sql)
            params.append(param)
        alias = ", ".join(f"c{n}" for n in range(len(given)))
        cur = cursor()
        try:
            cur.execute(
                f"INSERT INTO {table} ({target}) SELECT {', '.join(selects)} "  # noqa: S608
                f"FROM ROWS FROM ({', '.join(sources)}) AS u ({alias})" + tail,
                params,
            )
        except BaseException:
            cur.close()
            raise

        def fetch() -> list[tuple]:
            with cur:
                return cur.fetchall() if returning else []

        return fetch
    fixed = [_sqlite_value(f, v) for f, v in rest]
    per_row = len(given) + len(fixed)
    row_sql = "(" + ", ".join(["%s"] * per_row) + ")"
    data = [[_sqlite_value(f, v) for v in columns[f.name]] for f in given]
    inserted: list[tuple] = []
    step = max(1, _MAX_PARAMS // per_row)
    with cursor() as cur:
        for start in range(0, count, step):
            stop = min(count, start + step)
            params = []
            for i in range(start, stop):
                params.extend(col[i] for col in data)
                params.extend(fixed)
            cur.execute(
                f"INSERT INTO {table} ({target}) VALUES "  # noqa: S608 - names only
                + ", ".join([row_sql] * (stop - start))
                + tail,
                params,
            )
            if returning:
                inserted.extend(cur.fetchall())
    return lambda: inserted


@contextlib.contextmanager
def pipeline() -> Iterator[None]:
    """On PostgreSQL, psycopg's pipeline mode for the block: each statement is sent at once and
    PostgreSQL runs it while Python goes on; a fetch waits for its results. Only reads and this
    module's statements belong inside (an ORM update reads its row count before the results
    arrive). A no-op on SQLite, which runs in this process."""
    if not _is_pg():
        yield
        return
    connection.ensure_connection()
    with connection.connection.pipeline():
        yield


def reserve_ids(model: type[models.Model], count: int) -> list[int]:
    """``count`` ids for rows of ``model`` that the caller inserts later in this transaction,
    with these ids: rows that refer to them can be written first.

    PostgreSQL takes them from the table's sequence (unused ones leave a gap, as a rolled back
    insert does). SQLite continues after the highest id it ever gave, as AUTOINCREMENT does, and
    moves its counter (``sqlite_sequence``) past them; the transaction holds the database's write
    lock from its start (IMMEDIATE), so no other writer takes the same ones.
    """
    if count <= 0:
        return []
    meta = model._meta
    if _is_pg():
        rows = fetch(
            "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
            [meta.db_table, meta.pk.column, count],
        )
        return [pk for (pk,) in rows]
    qn = connection.ops.quote_name
    with connection.cursor() as cur:
        cur.execute(
            "SELECT max(COALESCE((SELECT seq FROM sqlite_sequence WHERE name = %s), 0), "  # noqa: S608
            f"COALESCE((SELECT max({_quoted(_column_field(model, 'pk'))}) "
            f"FROM {qn(meta.db_table)}), 0))",
            [meta.db_table],
        )
        (last,) = cur.fetchone()
        cur.execute(
            "UPDATE sqlite_sequence SET seq = %s WHERE name = %s", [last + count, meta.db_table]
        )
        if not cur.rowcount:
            cur.execute(
                "INSERT INTO sqlite_sequence (name, seq) VALUES (%s, %s)",
                [meta.db_table, last + count],
            )
    return list(range(last + 1, last + 1 + count))


def update_rows(model: type[models.Model], pks: list[Any], columns: Mapping[str, list[Any]]) -> int:
    """Set ``columns`` (one list per field, aligned with ``pks``) of the rows with those pks."""
    if not pks:
        return 0
    meta = model._meta
    qn = connection.ops.quote_name
    pk = _column_field(model, "pk")
    targets = [_column_field(model, name) for name in columns]
    table = qn(meta.db_table)
    names = ", ".join(_quoted(f) for f in [pk, *targets])
    assignments = ", ".join(f"{_quoted(f)} = v.{_quoted(f)}" for f in targets)
    where = f"WHERE {table}.{_quoted(pk)} = v.{_quoted(pk)}"
    with cursor() as cur:
        if _is_pg():
            sources, params = [], []
            for field, values in [(pk, pks), *((f, columns[f.name]) for f in targets)]:
                sql, param = _pg_array(field, values)
                sources.append(sql)
                params.append(param)
            cur.execute(
                f"UPDATE {table} SET {assignments} "  # noqa: S608 - names only
                f"FROM ROWS FROM ({', '.join(sources)}) AS v ({names}) {where}",
                params,
            )
            return cur.rowcount
        data = [pks, *([_sqlite_value(f, v) for v in columns[f.name]] for f in targets)]
        per_row = len(data)
        row_sql = "(" + ", ".join(["%s"] * per_row) + ")"
        updated = 0
        step = max(1, _MAX_PARAMS // per_row)
        for start in range(0, len(pks), step):
            stop = min(len(pks), start + step)
            params = [col[i] for i in range(start, stop) for col in data]
            cur.execute(
                f"WITH v ({names}) AS (VALUES {', '.join([row_sql] * (stop - start))}) "  # noqa: S608
                f"UPDATE {table} SET {assignments} FROM v {where}",
                params,
            )
            updated += cur.rowcount
    return updated


def any_of(column: str, values: Sequence[str]) -> tuple[str, Any]:
    """SQL and its one parameter for ``column IN values`` (text values)."""
    if _is_pg():
        return f"{column} = ANY(%b::text[])", list(values)
    return f"{column} IN (SELECT value FROM json_each(%s))", json.dumps(list(values))  # noqa: S608


class IdArray(str):
    """Integer ids as one array literal, ``{1,2,3}`` (see ``id_array``)."""


def id_array(values: Iterable[int]) -> IdArray:
    """``values`` as one array literal. PostgreSQL reads 20,000 ids from it in about 5 ms;
    psycopg adapting the same Python list took 25–40 ms (it checks every element's type)."""
    return IdArray("{" + ",".join(str(int(value)) for value in values) + "}")


class AnyOf(models.Lookup):
    """``field__any_of=ids``: the integer column is one of ``ids`` (a list, or an ``IdArray``
    to build once for several statements), as one parameter.

    ``__in`` sends one parameter per value (a search's 20,000 ticket ids were 20,000
    parameters) and ``__in`` with an ``unnest`` subquery hides the values from the planner:
    ``id IN (SELECT unnest(…)) OR identity_id IN (SELECT unnest(…))`` read every open ticket
    (130–340 ms) to find that a search matched nothing. ``= ANY(array)`` lets PostgreSQL count
    the values and choose between looking each one up and walking the list's own order.
    """

    lookup_name = "any_of"
    prepare_rhs = False

    def as_sql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        values = self.rhs if isinstance(self.rhs, IdArray) else id_array(self.rhs)
        if connection.vendor == "postgresql":
            return f"{lhs} = ANY(%s::bigint[])", [*lhs_params, str(values)]
        sql = f"{lhs} IN (SELECT value FROM json_each(%s))"  # noqa: S608 - lhs is a column
        return sql, [*lhs_params, f"[{values[1:-1]}]"]


models.IntegerField.register_lookup(AnyOf)
models.ForeignKey.register_lookup(AnyOf)


def probe(
    table: str, fixed: tuple[str, Any], column: str, values: Sequence[str], select: str
) -> tuple[str, list[Any]]:
    """SQL and parameters selecting ``select`` (columns of ``found``) from the rows of ``table``
    whose ``fixed`` column equals its value and whose ``column`` is one of ``values``: one probe
    of a unique index on (fixed, column) per value, whatever the statistics say.

    ``fixed = %s AND column = ANY(%s)`` lets PostgreSQL choose between probing the index per
    value and reading every index entry of the fixed value, by its estimate of how many rows
    that value has. For a channel connected since the last ANALYZE the estimate is one row, so
    it read all of them: 157,000 entries, 70–500 ms, for every batch of a new busy channel.
    Each value here is looked up in a LATERAL subquery that ``OFFSET 0`` keeps from being
    flattened into a join, so both columns are always index conditions.
    """
    if _is_pg():
        return (
            f"SELECT {select} FROM unnest(%b::text[]) AS probe(value) CROSS JOIN LATERAL "  # noqa: S608
            f"(SELECT * FROM {table} WHERE {fixed[0]} = %b AND {column} = probe.value OFFSET 0) "
            "AS found",
            [list(values), fixed[1]],
        )
    test, param = any_of(f"found.{column}", values)
    return (
        f"SELECT {select} FROM {table} AS found WHERE found.{fixed[0]} = %s AND {test}",  # noqa: S608
        [fixed[1], param],
    )


def fetch(sql: str, params: Sequence[Any]) -> list[tuple]:
    with cursor() as cur:
        cur.execute(sql, params)
        return cur.fetchall()

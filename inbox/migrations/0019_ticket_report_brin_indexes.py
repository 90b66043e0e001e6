"""BRIN indexes on the ticket times the leads' reports filter by a date range.

``created_at`` (volume, intent mix, tags), ``first_inbound_at`` (first response, per agent),
``closed_at`` (resolution, closed per agent) and ``first_response_due_at`` (SLA attainment). A
BRIN index keeps one min/max summary per 128 table pages, so it is 48 kB for 1M tickets and
costs ingest next to nothing, unlike a B-tree per column. It works as long as
the table's physical order roughly follows time, which new tickets do. Measured with
bench/reports.py on 1M tickets: the whole dashboard over 7 days from 2.5 s to 0.9 s (median of
five); over 30 days, half the table, a scan is as fast (docs/team-leads.md). PostgreSQL only.
"""

from django.db import migrations

INDEXES = {
    "ticket_created_brin": "created_at",
    "ticket_first_inbound_brin": "first_inbound_at",
    "ticket_closed_brin": "closed_at",
    "ticket_first_due_brin": "first_response_due_at",
}


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, column in INDEXES.items():
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {name} ON inbox_ticket USING brin ({column})"
        )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [("inbox", "0018_ticket_business_durations")]

    operations = [migrations.RunPython(create, drop)]

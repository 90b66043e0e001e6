"""Autovacuum analyzes the busy tables after 1 % of their rows changed, not PostgreSQL's 10 %.

On 1M tickets the default waits for 100,000 changes. A team that gained 40,000 tickets in an
afternoon then still had the statistics of an empty team: the planner expected one row, chose
nested loops, and an agent's inbox list took over a second instead of 40 ms (bench/load.py,
docs/reliability.md). PostgreSQL only; SQLite has no autovacuum.
"""

from django.db import migrations

TABLES = ("inbox_ticket", "inbox_message", "inbox_activity")


def tune(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table in TABLES:
        schema_editor.execute(
            f"ALTER TABLE {table} SET (autovacuum_analyze_scale_factor = 0.01, "  # noqa: S608
            "autovacuum_vacuum_scale_factor = 0.02)"
        )


def untune(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table in TABLES:
        schema_editor.execute(
            f"ALTER TABLE {table} RESET (autovacuum_analyze_scale_factor, "  # noqa: S608
            "autovacuum_vacuum_scale_factor)"
        )


class Migration(migrations.Migration):
    dependencies = [("inbox", "0014_activity_time_index")]

    operations = [migrations.RunPython(tune, untune)]

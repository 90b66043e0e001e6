"""Statistics of the big tables are refreshed after 2% of their rows changed, not 10%.

A channel or team created since the last ANALYZE is estimated at one row; PostgreSQL then
picks plans that read all of its rows (found under load: 150,000 messages of a new channel
read for each ingest batch, a new team's whole queue walked for a filtered list). Ingest's own
lookups no longer depend on the estimate (``inbox.bulk.probe``); this keeps the inbox's list
plans from depending on it for long. PostgreSQL only.
"""

from django.db import migrations

TABLES = ("inbox_ticket", "inbox_message", "inbox_identity", "inbox_customer")


def sooner(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table in TABLES:
        schema_editor.execute(
            f"ALTER TABLE {table} SET (autovacuum_analyze_scale_factor = 0.02)"
        )


def default(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table in TABLES:
        schema_editor.execute(f"ALTER TABLE {table} RESET (autovacuum_analyze_scale_factor)")


class Migration(migrations.Migration):
    dependencies = [("inbox", "0023_ticket_channel_open_order")]

    operations = [migrations.RunPython(sooner, default)]

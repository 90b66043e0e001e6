"""The report BRIN indexes summarize each page range as soon as it is full (PostgreSQL only).

A BRIN index only knows the ranges that VACUUM (or ``brin_summarize_new_values``) summarized;
every other range is read by each query that uses the index. Tickets are mostly inserted, and
autovacuum vacuums such a table after 20 % new rows (about 200,000 tickets on a 1M table), so
the newest pages, the ones the dashboard asks for, were read whatever the range between
vacuums. With ``autosummarize`` an insert that starts a new range asks autovacuum to summarize
the previous one in the background: nothing is added to the insert itself. Measured on the
1M-ticket bench table, every range unsummarized vs summarized: the whole 30-day dashboard
6.1 s vs 3.4 s (docs/team-leads.md).
"""

from django.db import migrations

INDEXES = (
    "ticket_created_brin",
    "ticket_first_inbound_brin",
    "ticket_closed_brin",
    "ticket_first_due_brin",
)


def autosummarize(value: str):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        for name in INDEXES:
            schema_editor.execute(f"ALTER INDEX IF EXISTS {name} SET (autosummarize = {value})")

    return run


class Migration(migrations.Migration):
    dependencies = [("inbox", "0021_engine_config_stamp")]

    operations = [migrations.RunPython(autosummarize("on"), autosummarize("off"))]

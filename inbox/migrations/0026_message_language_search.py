"""The message's language, and a full-text index that stems each text in its own language.

Migration 0003 indexed every text twice, with the Dutch and the English stemmer. Parsing and
stemming a text costs about 4 µs per configuration, paid inside every ingest transaction: a
quarter of a 500-message batch's INSERT. Now a text whose language the platform gives (X's
``lang``, review sites, the simulator) is stemmed once, in that language; other texts (Facebook,
Messenger) still get both stems.

Searches stem the query with both stemmers and take either (``inbox.tickets.selectors.SEARCH_DOCUMENT``,
the same expression as this index), so a word written exactly as in the message always matches,
whatever its language label, and inflections ("pakketten" for "pakket") match in the message's
own language.

The index is built before the old one is dropped, both ``CONCURRENTLY``: on a large message table
this takes minutes, and ingest and search keep working meanwhile. PostgreSQL only; SQLite
searches with a plain ``LIKE``.
"""

from django.db import migrations, models

SEARCH_DOCUMENT = (
    "(CASE language WHEN 'nl' THEN to_tsvector('dutch'::regconfig, text) "
    "WHEN 'en' THEN to_tsvector('english'::regconfig, text) "
    "ELSE to_tsvector('dutch'::regconfig, text) || to_tsvector('english'::regconfig, text) END)"
)
SEARCH_INDEX = (
    "CREATE INDEX CONCURRENTLY IF NOT EXISTS message_text_search ON inbox_message USING gin "
    f"({SEARCH_DOCUMENT})"
)
OLD_INDEX = (
    "CREATE INDEX CONCURRENTLY IF NOT EXISTS message_text_fts ON inbox_message USING gin "
    "((to_tsvector('dutch'::regconfig, text) || to_tsvector('english'::regconfig, text)))"
)


def _invalid(schema_editor, name: str) -> bool:
    """Whether an interrupted CREATE INDEX CONCURRENTLY left this index behind, invalid (IF NOT
    EXISTS would keep it)."""
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(
            "SELECT NOT i.indisvalid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
            "WHERE c.relname = %s",
            [name],
        )
        row = cursor.fetchone()
    return bool(row and row[0])


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        if _invalid(schema_editor, "message_text_search"):
            schema_editor.execute("DROP INDEX CONCURRENTLY message_text_search")
        schema_editor.execute(SEARCH_INDEX)
        schema_editor.execute("DROP INDEX CONCURRENTLY IF EXISTS message_text_fts")


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(OLD_INDEX)
        schema_editor.execute("DROP INDEX CONCURRENTLY IF EXISTS message_text_search")


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("inbox", "0025_ticket_team_praise_order"),
    ]

    operations = [
        migrations.AddField(
            model_name="message",
            name="language",
            field=models.CharField(blank=True, default="", max_length=8),
        ),
        migrations.RunPython(forwards, backwards),
    ]

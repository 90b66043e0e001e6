"""Roles as groups with their permissions, and the full-text index of message text.

Permissions live on the ticket's content type: ``work_tickets`` (agent), ``assign_tickets``
(lead: assign, review, see every team) and ``configure_inbox`` (admin). The demo setup puts users
in the groups by name, so the names are part of the contract.

The GIN index serves the inbox search (``inbox.tickets.selectors.FTS_MATCH``): Dutch and English stems of
every message, so "pakketten" finds "pakket" and "delivered" finds "delivery". PostgreSQL only;
SQLite searches with a plain ``LIKE``.
"""

from django.db import migrations

PERMISSIONS = {
    "work_tickets": "Can work tickets (claim, reply, tag, close)",
    "assign_tickets": "Can assign tickets and see every team",
    "configure_inbox": "Can configure the inbox",
}
ROLES = {
    "agent": ["work_tickets"],
    "lead": ["work_tickets", "assign_tickets"],
    "admin": ["work_tickets", "assign_tickets", "configure_inbox"],
}

FTS_INDEX = (
    "CREATE INDEX IF NOT EXISTS message_text_fts ON inbox_message USING gin "
    "((to_tsvector('dutch'::regconfig, text) || to_tsvector('english'::regconfig, text)))"
)


def create_roles(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    Permission = apps.get_model("auth", "Permission")
    Group = apps.get_model("auth", "Group")
    ct, _ = ContentType.objects.get_or_create(app_label="inbox", model="ticket")
    perms = {}
    for codename, name in PERMISSIONS.items():
        perms[codename], _ = Permission.objects.get_or_create(
            codename=codename, content_type=ct, defaults={"name": name}
        )
    for role, codenames in ROLES.items():
        group, _ = Group.objects.get_or_create(name=role)
        group.permissions.add(*(perms[c] for c in codenames))


def remove_roles(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=ROLES).delete()


def create_fts_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FTS_INDEX)


def drop_fts_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP INDEX IF EXISTS message_text_fts")


class Migration(migrations.Migration):
    dependencies = [
        ("inbox", "0002_canned_replies"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [
        migrations.RunPython(create_roles, remove_roles),
        migrations.RunPython(create_fts_index, drop_fts_index),
    ]

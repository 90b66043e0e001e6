"""Claims (``PrivateReply``) for the private replies made before the claim table existed.

Migration 0034 made "Move to DM" once per comment by a claim row taken when a private reply is
queued. Private replies queued before it have no row, so the composer would offer "Move to DM"
again on comments already answered privately, and Meta would refuse the second message.

A private reply is an outbound ``Message`` with ``reply_mode`` "private" (``"private_reply"``
is read as the same by ``channels.meta.send.is_private_reply``). The comment it answered is its
``send_options["comment_id"]`` when pinned (replies queued since 0034), else what the send
answered before 0034 (``inbox.replies.delivery.outbound_reply``): the ticket's latest customer
message with a platform id, as of when the reply went out (``delivery_changed_at``, else its
``sent_at``).

Claimed: replies sent, and those still queued, sending or held for review (sending them later
must not let a second one through). Not claimed: failed replies, whose outcome the table cannot
tell (refused for good gives the comment back); a retry claims its comment then
(``inbox.replies.private.private_reclaim``).

One ``INSERT ... SELECT`` (no Python loop over messages): the comment is found by a correlated
sub-query on the ``message_thread_order`` index (ticket, sent_at, id). ``ON CONFLICT DO
NOTHING`` makes it idempotent (a reply already claimed, or a comment already claimed by another
reply, is left as it is; of two earlier replies to one comment, the one sent wins) on PostgreSQL and SQLite (3.24+) alike. The reverse keeps the rows: they
are true claims, and 0034's own reverse drops the table.
"""

from django.db import migrations

PRIVATE_MODES = ("private", "private_reply")
CLAIMED_STATES = ("sent", "queued", "sending", "awaiting_approval", "returned")


def _pinned_comment(vendor: str) -> str:
    if vendor == "postgresql":
        return "NULLIF(m.send_options ->> 'comment_id', '')"
    return "NULLIF(json_extract(m.send_options, '$.comment_id'), '')"


def claims_sql(vendor: str) -> str:
    """The statement, for this database: its parameters are the modes, then the states."""
    modes = ", ".join(["%s"] * len(PRIVATE_MODES))
    states = ", ".join(["%s"] * len(CLAIMED_STATES))
    answered = f"""COALESCE({_pinned_comment(vendor)}, (
            SELECT c.external_id FROM inbox_message c
            WHERE c.ticket_id = m.ticket_id
              AND c.direction = 'in'
              AND c.external_id IS NOT NULL
              AND c.sent_at <= COALESCE(m.delivery_changed_at, m.sent_at)
            ORDER BY c.sent_at DESC, c.id DESC
            LIMIT 1
        ))"""
    return f"""
        INSERT INTO inbox_privatereply (channel_id, comment_id, message_id, created_at)
        SELECT channel_id, comment_id, message_id, created_at FROM (
            SELECT m.channel_id AS channel_id, {answered} AS comment_id, m.id AS message_id,
                   m.created_at AS created_at, m.delivery_state AS delivery_state
            FROM inbox_message m
            WHERE m.direction = 'out'
              AND m.reply_mode IN ({modes})
              AND m.delivery_state IN ({states})
        ) AS earlier
        WHERE comment_id IS NOT NULL
        ORDER BY CASE WHEN delivery_state = 'sent' THEN 0 ELSE 1 END, message_id
        ON CONFLICT DO NOTHING
    """


def claim_earlier_private_replies(apps, schema_editor) -> None:
    connection = schema_editor.connection
    with connection.cursor() as cursor:
        cursor.execute(claims_sql(connection.vendor), [*PRIVATE_MODES, *CLAIMED_STATES])


class Migration(migrations.Migration):
    dependencies = [
        ("inbox", "0036_customer_phone_email"),
    ]

    operations = [
        migrations.RunPython(claim_earlier_private_replies, migrations.RunPython.noop),
    ]

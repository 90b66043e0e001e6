"""Ingest's lookups stay index probes for a channel the planner's statistics have not seen yet.

A newly connected channel has no rows in the statistics of the last ANALYZE, so PostgreSQL
estimates one row for it and, asked for ``channel_id = %s AND external_id = ANY(%s)``, reads
every index entry of the channel instead of probing per id: fine at first, 70–500 ms a batch
once the channel holds 150,000 messages.
"""

import pytest
from django.db import connection

from inbox.core import bulk
from tests.factories import make_channel
from tests.personas import tickets

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]


def _messages(channel_id: int, ticket_id: int, n: int, prefix: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO inbox_message (ticket_id, channel_id, direction, external_id, text, "
            "sent_at, created_at, raw, url, parent_external_id, hidden, reply_mode, "
            "delivery_state, failure_reason, attempts, send_options, review_note, "
            "close_on_approval, language) "
            "SELECT %s, %s, 'in', %s || g, 'x', now(), now(), '{}', '', '', false, '', '', '', "
            "0, '{}', '', false, '' FROM generate_series(1, %s) g",
            [ticket_id, channel_id, prefix, n],
        )


def _plan(sql: str, params: list) -> str:
    # bulk's cursor binds on the server (%b); EXPLAIN runs through the same cursor.
    with bulk.cursor() as cur:
        cur.execute("EXPLAIN " + sql, params)
        return "\n".join(row[0] for row in cur.fetchall())


def test_the_stored_ids_lookup_probes_per_id_on_a_channel_the_statistics_have_not_seen():
    seen, new = make_channel(), make_channel()
    _messages(seen.pk, tickets(1, channel=seen, prefix="s")[0].pk, 30_000, "s")
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE inbox_message")
    _messages(new.pk, tickets(1, channel=new, prefix="n")[0].pk, 30_000, "n")

    sql, params = bulk.probe(
        "inbox_message", ("channel_id", new.pk), "external_id", ["n1", "n2"], "found.external_id"
    )
    plan = _plan(sql, params)
    assert "external_id = probe.value" in plan, plan
    assert "Filter" not in plan, plan
    assert sorted(x for (x,) in bulk.fetch(sql, params)) == ["n1", "n2"]

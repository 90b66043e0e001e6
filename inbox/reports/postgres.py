"""The dashboard's reports on PostgreSQL: groups, scalars and agent times in three statements."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from django.db import connection
from django.db.models import (
    Count,
)

from inbox.reports.aggregates import (
    DurationStats,
    PercentileDisc,
    _duration,
    _tickets,
)
from inbox.tickets.drill import with_responder


def _team_sql(team_id) -> str:
    return "team_id = %(team)s AND " if team_id is not None else ""


# The counts: one hashed aggregate over the tickets opened or closed in the period, grouped two
# ways at once (GROUPING SETS). New tickets and how many we answered per local day, channel and
# intent give both the volume (summed over intents) and the intent mix (summed over days and
# channels); tickets closed per assignee give the agents' "closed". The channel names are joined
# to the few groups, not to every ticket.
GROUPS_SQL = """
SELECT g.by_assignee, g.day, g.channel_id, c.name, g.intent, g.assignee_id,
       g.tickets, g.answered, g.closed
FROM (
    SELECT GROUPING(t.assignee_id) = 0 AS by_assignee, t.day, t.channel_id, t.intent,
           t.assignee_id,
           COUNT(*) FILTER (WHERE t.new) AS tickets,
           COUNT(*) FILTER (WHERE t.new AND t.answered) AS answered,
           COUNT(*) FILTER (WHERE t.closed) AS closed
    FROM (
        SELECT (created_at AT TIME ZONE %(zone)s)::date AS day, channel_id, intent,
               assignee_id, first_response_at IS NOT NULL AS answered,
               created_at >= %(start)s AND created_at < %(end)s AS new,
               status = 'closed' AND closed_at >= %(start)s AND closed_at < %(end)s AS closed
        FROM inbox_ticket
        WHERE {team}((created_at >= %(start)s AND created_at < %(end)s)
            OR (status = 'closed' AND closed_at >= %(start)s AND closed_at < %(end)s
                AND assignee_id IS NOT NULL))
    ) AS t
    GROUP BY GROUPING SETS ((t.day, t.channel_id, t.intent), (t.assignee_id))
) AS g
LEFT JOIN channels_channel AS c ON c.id = g.channel_id
ORDER BY g.by_assignee, g.day, c.name, g.channel_id, g.intent
"""


def _pg_groups(*, start: dt.datetime, end: dt.datetime, zone: str, team_id=None):
    """``(volume, intents, closed per assignee)``, the same as :func:`volume_by_channel_and_day`,
    :func:`intent_mix` and the closed counts of :func:`per_agent`, in one query."""
    params = {"start": start, "end": end, "zone": zone, "team": team_id}
    volume: dict[tuple[dt.date, int], dict[str, Any]] = {}
    intents: dict[str, dict[str, Any]] = {}
    closed: dict[int, int] = {}
    with connection.cursor() as cursor:
        cursor.execute(GROUPS_SQL.format(team=_team_sql(team_id)), params)
        for by_assignee, day, channel_id, name, intent, assignee, tickets, answered, n in cursor:
            if by_assignee:
                if assignee is not None and n:
                    closed[assignee] = n
                continue
            if not tickets:
                continue
            cell = volume.setdefault(
                (day, channel_id),
                {"day": day, "channel_id": channel_id, "channel": name, "tickets": 0},
            )
            cell["tickets"] += tickets
            mix = intents.setdefault(intent, {"intent": intent, "tickets": 0, "answered": 0})
            mix["tickets"] += tickets
            mix["answered"] += answered
    return (
        list(volume.values()),
        [row | {"intent": row["intent"] or "unknown"} for _, row in sorted(intents.items())],
        closed,
    )


# The times and the SLA: one plain aggregate over the tickets opened, closed or due in the
# period, each figure FILTERed to its own tickets. ``percentile_disc(ARRAY[0.5, 0.9])`` sorts
# once for both percentiles, and skips NULLs (unanswered tickets have no response time). The
# SLA asks whether the ticket was answered, not whether it has a response time: a ticket
# without a first inbound message has none but may have been answered.
SCALARS_SQL = """
SELECT
    COUNT(*) FILTER (WHERE opened AND response IS NOT NULL),
    percentile_disc(ARRAY[0.5, 0.9]) WITHIN GROUP (ORDER BY response) FILTER (WHERE opened),
    COUNT(*) FILTER (WHERE opened AND response_b IS NOT NULL),
    percentile_disc(ARRAY[0.5, 0.9]) WITHIN GROUP (ORDER BY response_b) FILTER (WHERE opened),
    COUNT(*) FILTER (WHERE closed AND resolution IS NOT NULL),
    percentile_disc(ARRAY[0.5, 0.9]) WITHIN GROUP (ORDER BY resolution) FILTER (WHERE closed),
    COUNT(*) FILTER (WHERE closed AND resolution IS NOT NULL AND resolution_b IS NOT NULL),
    percentile_disc(ARRAY[0.5, 0.9]) WITHIN GROUP (ORDER BY resolution_b)
        FILTER (WHERE closed AND resolution IS NOT NULL),
    COUNT(*) FILTER (WHERE due AND in_time),
    COUNT(*) FILTER (WHERE due AND (NOT in_time OR (NOT answered AND overdue))),
    COUNT(*) FILTER (WHERE due AND NOT answered AND NOT overdue)
FROM (
    SELECT assignee_id,
           first_inbound_at >= %(start)s AND first_inbound_at < %(end)s AS opened,
           status = 'closed' AND closed_at >= %(start)s AND closed_at < %(end)s AS closed,
           first_response_due_at >= %(start)s AND first_response_due_at < %(end)s AS due,
           first_response_at - first_inbound_at AS response,
           closed_at - first_inbound_at AS resolution,
           first_response_business_seconds AS response_b,
           resolution_business_seconds AS resolution_b,
           first_response_at IS NOT NULL AS answered,
           first_response_at <= first_response_due_at AS in_time,
           first_response_due_at <= %(now)s AS overdue
    FROM inbox_ticket
    WHERE {team}((first_inbound_at >= %(start)s AND first_inbound_at < %(end)s)
        OR (status = 'closed' AND closed_at >= %(start)s AND closed_at < %(end)s)
        OR (first_response_due_at >= %(start)s AND first_response_due_at < %(end)s))
) AS t
"""


def _pg_scalars(*, start, end, now, team_id=None):
    """``(times, sla)`` in one scan: the same numbers as :func:`clock_and_business_times`
    (with :func:`resolution_times`' business-hours rows) and :func:`sla_attainment`."""
    params: dict[str, Any] = {"start": start, "end": end, "now": now, "team": team_id}
    sql = SCALARS_SQL.format(team=_team_sql(team_id))
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()

    def stats(count, pair, seconds=False) -> DurationStats:
        median, p90 = pair or (None, None)
        if seconds:
            median, p90 = (None if v is None else dt.timedelta(seconds=v) for v in (median, p90))
        return DurationStats(count, median, p90)

    times = {
        "first_response": (stats(row[0], row[1]), stats(row[2], row[3], seconds=True)),
        "resolution": (stats(row[4], row[5]), stats(row[6], row[7], seconds=True)),
    }
    met, breached, pending = row[8:11]
    decided = met + breached
    sla = {
        "met": met,
        "breached": breached,
        "pending": pending,
        "decided": decided,
        "rate": round(met / decided, 4) if decided else None,
    }
    return times, sla


def _pg_agent_times(*, start, end, team_id=None, agents: Sequence[int] = ()):
    """First-response times of ``agents``' tickets opened in the period, one grouped query (the
    one of :func:`per_agent`). Folding it into :func:`_pg_scalars` as one FILTERed percentile
    per agent was measured slower: every row is tested against every agent's filter."""
    if not agents:
        return {}
    opened = with_responder(
        _tickets(team_id).filter(
            first_inbound_at__gte=start, first_inbound_at__lt=end, first_response_at__isnull=False
        )
    ).filter(responder__in=agents)
    return {
        row["responder"]: DurationStats(row["n"], row["median"], row["p90"])
        for row in opened.values("responder")
        .annotate(
            n=Count("id"),
            median=PercentileDisc(_duration("first_inbound_at", "first_response_at"), 0.5),
            p90=PercentileDisc(_duration("first_inbound_at", "first_response_at"), 0.9),
        )
        .order_by()
    }

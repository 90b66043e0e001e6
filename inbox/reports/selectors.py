"""Report queries for the leads' dashboard: each one a few aggregate queries, never a row loop.

Periods are half-open ``[start, end)``. Percentiles use the nearest-rank definition (the
smallest value with at least p of the values at or below it): PostgreSQL's ``percentile_disc``
in one scan, and on SQLite ``ORDER BY … OFFSET k LIMIT 1`` after a ``COUNT``, which gives the
same answer (the test suite runs on both). Durations are wall-clock, or business time with
``business=True``: those are the seconds stored on the ticket when it was answered or closed
(``inbox.engines.sla.business_durations_set``), aggregated the same way, so no calendar is walked
here.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.db.models import (
    Aggregate,
    Count,
    DurationField,
    ExpressionWrapper,
    F,
    IntegerField,
    Q,
    QuerySet,
)
from django.db.models.functions import TruncDate
from django.utils import timezone

from inbox.models import DeliveryState, Direction, Message, Tag, Ticket


@dataclass(frozen=True, slots=True)
class DurationStats:
    count: int
    median: dt.timedelta | None
    p90: dt.timedelta | None

    def as_row(self, name: str) -> dict[str, Any]:
        def minutes(value: dt.timedelta | None) -> float | None:
            return None if value is None else round(value.total_seconds() / 60, 1)

        return {
            "measure": name,
            "count": self.count,
            "median_minutes": minutes(self.median),
            "p90_minutes": minutes(self.p90),
        }


def _percentile(queryset: QuerySet, expression, p: float, count: int) -> dt.timedelta | None:
    if count == 0:
        return None
    k = max(1, math.ceil(p * count)) - 1
    annotated = queryset.annotate(
        _d=ExpressionWrapper(expression, output_field=DurationField())
    ).order_by("_d")
    return annotated.values_list("_d", flat=True)[k]


class PercentileDisc(Aggregate):
    """PostgreSQL's ``percentile_disc(p) WITHIN GROUP (ORDER BY expr)``: nearest rank."""

    function = "percentile_disc"
    template = "%(function)s(%(p)s) WITHIN GROUP (ORDER BY %(expressions)s)"

    def __init__(self, expression, p: float, output_field=None, **extra):
        super().__init__(
            expression, p=float(p), output_field=output_field or DurationField(), **extra
        )


def _duration(start_field: str, end_field: str):
    return ExpressionWrapper(F(end_field) - F(start_field), output_field=DurationField())


def duration_stats(queryset: QuerySet, start_field: str, end_field: str) -> DurationStats:
    """Median and p90 of ``end_field - start_field`` over rows where both are set.

    PostgreSQL: one scan with ``percentile_disc``. Elsewhere: a count and one ordered query per
    percentile; the same numbers.
    """
    rows = queryset.filter(**{f"{start_field}__isnull": False, f"{end_field}__isnull": False})
    expression = F(end_field) - F(start_field)
    if connection.vendor == "postgresql":
        result = rows.aggregate(
            count=Count("id"),
            median=PercentileDisc(_duration(start_field, end_field), 0.5),
            p90=PercentileDisc(_duration(start_field, end_field), 0.9),
        )
        return DurationStats(result["count"], result["median"], result["p90"])
    count = rows.count()
    return DurationStats(
        count=count,
        median=_percentile(rows, expression, 0.5, count),
        p90=_percentile(rows, expression, 0.9, count),
    )


def seconds_stats(queryset: QuerySet, field: str) -> DurationStats:
    """Median and p90 of a stored number of seconds (rows where it is set), as durations."""
    rows = queryset.filter(**{f"{field}__isnull": False})
    if connection.vendor == "postgresql":
        result = rows.aggregate(
            count=Count("id"),
            median=PercentileDisc(F(field), 0.5, output_field=IntegerField()),
            p90=PercentileDisc(F(field), 0.9, output_field=IntegerField()),
        )
        count, values = result["count"], (result["median"], result["p90"])
    else:
        count = rows.count()
        values = tuple(
            rows.order_by(field).values_list(field, flat=True)[max(1, math.ceil(p * count)) - 1]
            if count
            else None
            for p in (0.5, 0.9)
        )
    median, p90 = (None if v is None else dt.timedelta(seconds=v) for v in values)
    return DurationStats(count, median, p90)


def _tickets(team_id: int | None = None, channel_id: int | None = None) -> QuerySet[Ticket]:
    tickets = Ticket.objects.all()
    if team_id is not None:
        tickets = tickets.filter(team_id=team_id)
    if channel_id is not None:
        tickets = tickets.filter(channel_id=channel_id)
    return tickets


def volume_by_channel_and_day(
    *, start: dt.datetime, end: dt.datetime, zone: str | None = None, team_id=None
) -> list[dict[str, Any]]:
    """New tickets per channel per local day."""
    tz = ZoneInfo(zone or settings.TIME_ZONE)
    rows = (
        _tickets(team_id)
        .filter(created_at__gte=start, created_at__lt=end)
        .annotate(day=TruncDate("created_at", tzinfo=tz))
        .values("day", "channel_id", "channel__name")
        .annotate(tickets=Count("id"))
        .order_by("day", "channel__name", "channel_id")
    )
    return [
        {
            "day": r["day"],
            "channel_id": r["channel_id"],
            "channel": r["channel__name"],
            "tickets": r["tickets"],
        }
        for r in rows
    ]


def first_response_times(
    *, start: dt.datetime, end: dt.datetime, team_id=None, channel_id=None, business=False
) -> DurationStats:
    """From the customer's first message to our first answer, for tickets opened in the period
    (``business``: counting only the team's business hours)."""
    tickets = _tickets(team_id, channel_id).filter(
        first_inbound_at__gte=start, first_inbound_at__lt=end
    )
    if business:
        return seconds_stats(tickets, "first_response_business_seconds")
    return duration_stats(tickets, "first_inbound_at", "first_response_at")


def resolution_times(
    *, start: dt.datetime, end: dt.datetime, team_id=None, channel_id=None, business=False
) -> DurationStats:
    """From the customer's first message to closing, for tickets closed in the period
    (``business``: counting only the team's business hours)."""
    tickets = _tickets(team_id, channel_id).filter(
        status="closed", closed_at__gte=start, closed_at__lt=end
    )
    if business:
        return seconds_stats(
            tickets.filter(first_inbound_at__isnull=False), "resolution_business_seconds"
        )
    return duration_stats(tickets, "first_inbound_at", "closed_at")


def clock_and_business_times(
    *, start: dt.datetime, end: dt.datetime, team_id=None, channel_id=None
) -> dict[str, tuple[DurationStats, DurationStats]]:
    """First response and resolution, each on the clock and in business hours:
    ``{"first_response": (clock, business), "resolution": (clock, business)}``.

    The same numbers as the four calls of :func:`first_response_times` and
    :func:`resolution_times`; on PostgreSQL in two scans instead of four (``percentile_disc``
    skips NULLs, so the clock and the business figures share one aggregate).
    """
    span = {"start": start, "end": end, "team_id": team_id, "channel_id": channel_id}
    if connection.vendor != "postgresql":
        return {
            "first_response": (
                first_response_times(**span),
                first_response_times(**span, business=True),
            ),
            "resolution": (resolution_times(**span), resolution_times(**span, business=True)),
        }
    tickets = _tickets(team_id, channel_id)
    opened = tickets.filter(first_inbound_at__gte=start, first_inbound_at__lt=end)
    closed = tickets.filter(status="closed", closed_at__gte=start, closed_at__lt=end)
    return {
        "first_response": _both(opened, "first_response_at", "first_response_business_seconds"),
        "resolution": _both(closed, "closed_at", "resolution_business_seconds"),
    }


def _both(tickets: QuerySet, end_field: str, seconds_field: str):
    clock = _duration("first_inbound_at", end_field)
    seconds = F(seconds_field)
    r = tickets.aggregate(
        n=Count("id", filter=Q(first_inbound_at__isnull=False, **{f"{end_field}__isnull": False})),
        median=PercentileDisc(clock, 0.5),
        p90=PercentileDisc(clock, 0.9),
        bn=Count(
            "id", filter=Q(first_inbound_at__isnull=False, **{f"{seconds_field}__isnull": False})
        ),
        bmedian=PercentileDisc(seconds, 0.5, output_field=IntegerField()),
        bp90=PercentileDisc(seconds, 0.9, output_field=IntegerField()),
    )

    def td(value: int | None) -> dt.timedelta | None:
        return None if value is None else dt.timedelta(seconds=value)

    return (
        DurationStats(r["n"], r["median"], r["p90"]),
        DurationStats(r["bn"], td(r["bmedian"]), td(r["bp90"])),
    )


def sla_attainment(
    *,
    start: dt.datetime,
    end: dt.datetime,
    now: dt.datetime | None = None,
    team_id=None,
    channel_id=None,
) -> dict[str, Any]:
    """First responses in time, for tickets whose first answer was due in the period.

    Only decided tickets count: answered ones, and unanswered ones whose due time has passed
    (breached). A ticket still within its time is neither met nor breached yet.
    """
    now = now or timezone.now()
    tickets = _tickets(team_id, channel_id).filter(
        first_response_due_at__gte=start, first_response_due_at__lt=end
    )
    met = Q(first_response_at__isnull=False, first_response_at__lte=F("first_response_due_at"))
    answered_late = Q(
        first_response_at__isnull=False, first_response_at__gt=F("first_response_due_at")
    )
    overdue = Q(first_response_at__isnull=True, first_response_due_at__lte=now)
    counts = tickets.aggregate(
        met=Count("id", filter=met),
        breached=Count("id", filter=answered_late | overdue),
        pending=Count(
            "id", filter=Q(first_response_at__isnull=True, first_response_due_at__gt=now)
        ),
    )
    decided = counts["met"] + counts["breached"]
    counts["decided"] = decided
    counts["rate"] = round(counts["met"] / decided, 4) if decided else None
    return counts


def per_agent(*, start: dt.datetime, end: dt.datetime, team_id=None) -> list[dict[str, Any]]:
    """Per agent: replies sent, tickets closed (as assignee), and first-response times of the
    tickets assigned to them that opened in the period."""
    replies = _replies(start=start, end=end, team_id=team_id)
    closed = dict(
        _tickets(team_id)
        .filter(status="closed", closed_at__gte=start, closed_at__lt=end, assignee__isnull=False)
        .values_list("assignee")
        .annotate(n=Count("id"))
        .values_list("assignee", "n")
    )
    users = get_user_model().objects.filter(pk__in=set(replies) | set(closed)).order_by("pk")
    opened = _tickets(team_id).filter(
        first_inbound_at__gte=start, first_inbound_at__lt=end, first_response_at__isnull=False
    )
    grouped: dict[int, DurationStats] = {}
    if connection.vendor == "postgresql":
        for row in (
            opened.filter(assignee__in=users)
            .values("assignee")
            .annotate(
                n=Count("id"),
                median=PercentileDisc(_duration("first_inbound_at", "first_response_at"), 0.5),
                p90=PercentileDisc(_duration("first_inbound_at", "first_response_at"), 0.9),
            )
            .order_by()
        ):
            grouped[row["assignee"]] = DurationStats(row["n"], row["median"], row["p90"])
    out = []
    for user in users:
        if connection.vendor == "postgresql":
            stats = grouped.get(user.pk, DurationStats(0, None, None))
        else:  # a few ordered queries per agent; agents are few
            stats = duration_stats(
                opened.filter(assignee=user), "first_inbound_at", "first_response_at"
            )
        out.append(
            {
                "user_id": user.pk,
                "agent": user.get_username(),
                "name": user.get_full_name() or user.get_username(),
                "replies": replies.get(user.pk, 0),
                "closed": closed.get(user.pk, 0),
                "first_response_median": stats.median,
                "first_response_p90": stats.p90,
            }
        )
    return out


def intent_mix(*, start: dt.datetime, end: dt.datetime, team_id=None) -> list[dict[str, Any]]:
    """Tickets opened in the period per intent, and how many of them we answered."""
    rows = (
        _tickets(team_id)
        .filter(created_at__gte=start, created_at__lt=end)
        .values("intent")
        .annotate(
            tickets=Count("id"),
            answered=Count("id", filter=Q(first_response_at__isnull=False)),
        )
        .order_by("intent")
    )
    return [
        {"intent": r["intent"] or "unknown", "tickets": r["tickets"], "answered": r["answered"]}
        for r in rows
    ]


def tag_counts(*, start: dt.datetime, end: dt.datetime, team_id=None) -> list[dict[str, Any]]:
    """Tags of the tickets opened in the period, most used first."""
    tickets = Q(tickets__created_at__gte=start, tickets__created_at__lt=end)
    if team_id is not None:
        tickets &= Q(tickets__team_id=team_id)
    rows = (
        Tag.objects.filter(tickets)
        .annotate(n=Count("tickets"))
        .order_by("-n", "name")
        .values_list("name", "n")
    )
    return [{"name": name, "tickets": n} for name, n in rows]


def to_csv(rows: Iterable[dict[str, Any]], columns: Sequence[str]) -> str:
    """CSV text of ``rows``. Cells that a spreadsheet would run as a formula are quoted with a
    leading apostrophe (channel and tag names are typed by people)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(columns)
    for row in rows:
        cells = []
        for column in columns:
            value = row.get(column)
            text = "" if value is None else str(value)
            if text[:1] in ("=", "+", "-", "@", "\t", "\r"):
                text = "'" + text
            cells.append(text)
        writer.writerow(cells)
    return out.getvalue()


# --- every figure of the dashboard at once ----------------------------------------------------
DASHBOARD_WORK_MEM = "64MB"  # the dashboard's sorts and hash tables stay in memory


def dashboard(
    *,
    start: dt.datetime,
    end: dt.datetime,
    zone: str | None = None,
    team_id=None,
    now: dt.datetime | None = None,
) -> dict[str, Any]:
    """Every figure of the leads' dashboard: ``times`` (as :func:`clock_and_business_times`),
    ``volume``, ``sla``, ``agents``, ``intents`` and ``tags``, each what its own function
    returns.

    On PostgreSQL three scans of the tickets instead of eight (:func:`_pg_groups`,
    :func:`_pg_scalars`, :func:`_pg_agent_times`), plus the replies, the agents and the tags,
    in one transaction that gives its queries DASHBOARD_WORK_MEM: the percentiles sort about
    as many values as there are tickets in the period (20 MB for 500,000), and at the default
    4 MB PostgreSQL sorts on disk and plans the grouping sets as sorts instead of one hash
    table; ``SET LOCAL`` ends with the transaction. Elsewhere the functions one by one.
    """
    now = now or timezone.now()
    zone = zone or settings.TIME_ZONE
    span = {"start": start, "end": end, "team_id": team_id}
    if connection.vendor != "postgresql":
        return {
            "times": clock_and_business_times(**span),
            "volume": volume_by_channel_and_day(**span, zone=zone),
            "sla": sla_attainment(**span, now=now),
            "agents": per_agent(**span),
            "intents": intent_mix(**span),
            "tags": tag_counts(**span),
        }
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(f"SET LOCAL work_mem = '{DASHBOARD_WORK_MEM}'")
        volume, intents, closed = _pg_groups(start=start, end=end, zone=zone, team_id=team_id)
        replies = _replies(start=start, end=end, team_id=team_id)
        users = list(
            get_user_model().objects.filter(pk__in=set(replies) | set(closed)).order_by("pk")
        )
        times, sla = _pg_scalars(start=start, end=end, now=now, team_id=team_id)
        by_agent = _pg_agent_times(
            start=start, end=end, team_id=team_id, agents=[u.pk for u in users]
        )
    return {
        "times": times,
        "volume": volume,
        "sla": sla,
        "agents": [
            _agent_row(user, replies, closed, by_agent.get(user.pk, DurationStats(0, None, None)))
            for user in users
        ],
        "intents": intents,
        "tags": tag_counts(**span),
    }


def _replies(*, start: dt.datetime, end: dt.datetime, team_id=None) -> dict[int, int]:
    """Replies sent per agent in the period."""
    return dict(
        Message.objects.filter(
            direction=Direction.OUTBOUND,
            delivery_state=DeliveryState.SENT,
            author_user__isnull=False,
            sent_at__gte=start,
            sent_at__lt=end,
        )
        .filter(**({"ticket__team_id": team_id} if team_id is not None else {}))
        .values_list("author_user")
        .annotate(n=Count("id"))
        .values_list("author_user", "n")
    )


def _agent_row(user, replies: dict, closed: dict, stats: DurationStats) -> dict[str, Any]:
    return {
        "user_id": user.pk,
        "agent": user.get_username(),
        "name": user.get_full_name() or user.get_username(),
        "replies": replies.get(user.pk, 0),
        "closed": closed.get(user.pk, 0),
        "first_response_median": stats.median,
        "first_response_p90": stats.p90,
    }


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
    opened = _tickets(team_id).filter(
        first_inbound_at__gte=start,
        first_inbound_at__lt=end,
        first_response_at__isnull=False,
        assignee__in=agents,
    )
    return {
        row["assignee"]: DurationStats(row["n"], row["median"], row["p90"])
        for row in opened.values("assignee")
        .annotate(
            n=Count("id"),
            median=PercentileDisc(_duration("first_inbound_at", "first_response_at"), 0.5),
            p90=PercentileDisc(_duration("first_inbound_at", "first_response_at"), 0.9),
        )
        .order_by()
    }

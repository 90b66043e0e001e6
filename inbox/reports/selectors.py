"""Report queries for the leads' dashboard: each one a few aggregate queries, never a row loop.

Periods are half-open ``[start, end)``. Percentiles use the nearest-rank definition (the
smallest value with at least p of the values at or below it): PostgreSQL's ``percentile_disc``
in one scan, and on SQLite ``ORDER BY … OFFSET k LIMIT 1`` after a ``COUNT``, which gives the
same answer (the test suite runs on both). Durations are wall-clock, or business time with
``business=True``: those are the seconds stored on the ticket when it was answered or closed
(``inbox.tickets.timing.business_durations_set``), aggregated the same way, so no calendar is walked
here.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterable, Sequence
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.db.models import (
    Count,
    F,
    IntegerField,
    Q,
    QuerySet,
)
from django.db.models.functions import TruncDate
from django.utils import timezone

from inbox.models import DeliveryState, Direction, Message, Tag
from inbox.reports.aggregates import (
    DurationStats,
    PercentileDisc,
    _duration,
    _tickets,
    duration_stats,
    seconds_stats,
)
from inbox.reports.postgres import _pg_agent_times, _pg_groups, _pg_scalars
from inbox.tickets.drill import with_responder


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
    tickets that opened in the period and that they answered first (incident answers too)."""
    replies = _replies(start=start, end=end, team_id=team_id)
    closed = dict(
        _tickets(team_id)
        .filter(status="closed", closed_at__gte=start, closed_at__lt=end, assignee__isnull=False)
        .values_list("assignee")
        .annotate(n=Count("id"))
        .values_list("assignee", "n")
    )
    users = get_user_model().objects.filter(pk__in=set(replies) | set(closed)).order_by("pk")
    opened = with_responder(
        _tickets(team_id).filter(
            first_inbound_at__gte=start, first_inbound_at__lt=end, first_response_at__isnull=False
        )
    )
    grouped: dict[int | None, DurationStats] = {}
    if connection.vendor == "postgresql":
        for row in (
            opened.filter(responder__in=users)
            .values("responder")
            .annotate(
                n=Count("id"),
                median=PercentileDisc(_duration("first_inbound_at", "first_response_at"), 0.5),
                p90=PercentileDisc(_duration("first_inbound_at", "first_response_at"), 0.9),
            )
            .order_by()
        ):
            grouped[row["responder"]] = DurationStats(row["n"], row["median"], row["p90"])
    out = []
    for user in users:
        if connection.vendor == "postgresql":
            stats = grouped.get(user.pk, DurationStats(0, None, None))
        else:  # a few ordered queries per agent; agents are few
            stats = duration_stats(
                opened.filter(responder=user.pk), "first_inbound_at", "first_response_at"
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


def csv_cell(value: Any) -> str:
    """A CSV cell's text; one that a spreadsheet would run as a formula is quoted with a leading
    apostrophe (channel, tag and customer names are typed by people)."""
    text = "" if value is None else str(value)
    if text[:1] in ("=", "+", "-", "@", "\t", "\r"):
        text = "'" + text
    return text


def to_csv(rows: Iterable[dict[str, Any]], columns: Sequence[str]) -> str:
    """CSV text of ``rows``, every cell through :func:`csv_cell`."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(columns)
    for row in rows:
        writer.writerow([csv_cell(row.get(column)) for column in columns])
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

"""Time the leads' report queries on a large ticket table (PostgreSQL).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/<db> .venv/bin/python bench/reports.py \
        --tickets 1000000

Fills the table once with generated tickets spread over 60 days (``generate_series``, seconds
for a million rows) and VACUUMs it, then runs each report over 30 and 7 days and prints the
time each took, the whole dashboard (``figures()``), and the reports one by one against
``reports.dashboard()`` in turns with the ratio of the two. Results go into docs/team-leads.md
("Measured") by hand.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "webcare.settings")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402

from channels.models import Channel  # noqa: E402
from inbox.models import Team, Ticket  # noqa: E402
from inbox.reports import selectors as reports  # noqa: E402
from inbox.reports.views import Period, figures  # noqa: E402

START = dt.datetime(2026, 9, 1, tzinfo=dt.UTC)
DAYS = 60

FILL = """
INSERT INTO inbox_ticket (
    channel_id, kind, thread_key, status, team_id, assignee_id, priority, priority_parts,
    intent, intent_corrected, language, subject, last_message_preview, platform_url,
    created_at, updated_at, first_inbound_at, last_inbound_at, first_response_at,
    last_response_at, waiting_since, due_at, first_response_due_at, closed_at, close_reason,
    version, routing_trace, first_response_business_seconds, resolution_business_seconds)
SELECT
    (%(channels)s::bigint[])[1 + (i %% %(n_channels)s)],
    'mention', 'bench-' || i,
    CASE WHEN i %% 10 < 7 THEN 'closed' ELSE 'open' END,
    %(team)s,
    (%(users)s::bigint[])[1 + (i %% %(n_users)s)],
    0, '[]', (ARRAY['complaint','question','compliment','other'])[1 + (i %% 4)], false,
    'nl', '', '', '',
    t, t, t, t,
    CASE WHEN i %% 10 < 9 THEN t + (((i * 7919) %% 7200) || ' seconds')::interval END,
    CASE WHEN i %% 10 < 9 THEN t + (((i * 7919) %% 7200) || ' seconds')::interval END,
    NULL, NULL, t + interval '60 minutes',
    CASE WHEN i %% 10 < 7 THEN t + (((i * 104729) %% 86400) || ' seconds')::interval END,
    '', 1, '[]',
    CASE WHEN i %% 10 < 9 THEN ((i * 7919) %% 7200) / 2 END,
    CASE WHEN i %% 10 < 7 THEN ((i * 104729) %% 86400) / 3 END
FROM (
    SELECT i, %(start)s::timestamptz + (i * (%(span)s / %(total)s)) * interval '1 second' AS t
    FROM generate_series(%(first)s::bigint, %(last)s::bigint) AS i
) AS s
"""


def fill(total: int) -> None:
    have = Ticket.objects.filter(thread_key__startswith="bench-").count()
    if have >= total:
        return
    users = []
    for n in range(10):
        user, _ = get_user_model().objects.get_or_create(username=f"bench-agent-{n}")
        users.append(user.pk)
    team, _ = Team.objects.get_or_create(name="Bench")
    channels = []
    for n in range(3):
        channel, _ = Channel.objects.get_or_create(
            name=f"bench {n}", defaults={"kind": "simulator", "settings": {"seed": n}}
        )
        channels.append(channel.pk)
    began = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(
            FILL,
            {
                "channels": channels,
                "n_channels": len(channels),
                "users": users,
                "n_users": len(users),
                "team": team.pk,
                "start": START.isoformat(),
                "span": DAYS * 86400.0,
                "total": float(total),
                "first": have,
                "last": total - 1,
            },
        )
        # VACUUM, not only ANALYZE: it also summarizes the BRIN indexes' new page ranges, as
        # autovacuum does on a live table; unsummarized ranges make every range query read the
        # whole table, which would time the fill, not the reports.
        cursor.execute("VACUUM ANALYZE inbox_ticket")
    print(f"filled {total - have} tickets in {time.perf_counter() - began:.1f} s")


# Tickets filled before the business-time columns existed get made-up values of the same shape.
BACKFILL = """
UPDATE inbox_ticket SET
    first_response_business_seconds = CASE WHEN first_response_at IS NOT NULL
        THEN (EXTRACT(EPOCH FROM first_response_at - first_inbound_at) / 2)::int END,
    resolution_business_seconds = CASE WHEN closed_at IS NOT NULL
        THEN (EXTRACT(EPOCH FROM closed_at - first_inbound_at) / 3)::int END
WHERE thread_key LIKE 'bench-%%' AND first_response_at IS NOT NULL
    AND first_response_business_seconds IS NULL
"""
RUNS = 5


def backfill() -> None:
    with connection.cursor() as cursor:
        cursor.execute(BACKFILL)
        if cursor.rowcount:
            print(f"backfilled business times of {cursor.rowcount} tickets")
            cursor.execute("ANALYZE inbox_ticket")


def timed(name: str, call) -> None:
    """The median of RUNS runs (the machine is shared: one run says little)."""
    times = []
    for _ in range(RUNS):
        began = time.perf_counter()
        result = call()
        times.append((time.perf_counter() - began) * 1000)
    size = len(result) if isinstance(result, list) else ""
    print(f"  {name:<36} {statistics.median(times):8.0f} ms  {size}")


def one_by_one(start: dt.datetime, end: dt.datetime, now: dt.datetime) -> dict:
    """The dashboard's figures the way figures() got them before reports.dashboard(): each
    report on its own (the same numbers)."""
    span = {"start": start, "end": end}
    return {
        "times": reports.clock_and_business_times(**span),
        "volume": reports.volume_by_channel_and_day(**span, zone="UTC"),
        "sla": reports.sla_attainment(**span, now=now),
        "agents": reports.per_agent(**span),
        "intents": reports.intent_mix(**span),
        "tags": reports.tag_counts(**span),
    }


def alternating(start: dt.datetime, end: dt.datetime, now: dt.datetime) -> None:
    """The reports one by one and reports.dashboard() in turns, RUNS times each: on a shared
    machine the ratio of the two medians says more than either figure."""
    old, new = [], []
    for _ in range(RUNS):
        for times, call in (
            (old, lambda: one_by_one(start, end, now)),
            (new, lambda: reports.dashboard(start=start, end=end, zone="UTC", now=now)),
        ):
            began = time.perf_counter()
            call()
            times.append((time.perf_counter() - began) * 1000)
    before, after = statistics.median(old), statistics.median(new)
    print(f"  {'one by one / reports.dashboard()':<36} {before:8.0f} ms {after:6.0f} ms  ", end="")
    print(f"{before / after:.1f}x")


def main() -> None:
    global RUNS  # noqa: PLW0603 - a script's one setting
    parser = argparse.ArgumentParser()
    parser.add_argument("--tickets", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=RUNS)
    args = parser.parse_args()
    RUNS = args.runs
    if not settings.IS_POSTGRES:
        sys.exit("bench/reports.py needs DATABASE_URL=postgres://...")
    call_command("migrate", verbosity=0)
    fill(args.tickets)
    backfill()
    total = Ticket.objects.count()
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_size_pretty(pg_table_size('inbox_ticket'))")
        print(f"inbox_ticket: {total} rows, {cursor.fetchone()[0]}")
    now = START + dt.timedelta(days=DAYS)
    for days in (30, 7):
        start = START + dt.timedelta(days=DAYS - days)
        end = START + dt.timedelta(days=DAYS)
        print(f"{days} days of {total} tickets:")
        timed(
            "volume by channel and day",
            lambda s=start, e=end: reports.volume_by_channel_and_day(start=s, end=e),
        )  # noqa: E501
        timed(
            "first response median/p90",
            lambda s=start, e=end: reports.first_response_times(start=s, end=e),
        )  # noqa: E501
        timed(
            "resolution median/p90", lambda s=start, e=end: reports.resolution_times(start=s, end=e)
        )  # noqa: E501
        timed(
            "SLA attainment", lambda s=start, e=end: reports.sla_attainment(start=s, end=e, now=now)
        )  # noqa: E501
        timed(
            "first response, business hours",
            lambda s=start, e=end: reports.first_response_times(start=s, end=e, business=True),
        )
        timed(
            "resolution, business hours",
            lambda s=start, e=end: reports.resolution_times(start=s, end=e, business=True),
        )
        timed("per agent", lambda s=start, e=end: reports.per_agent(start=s, end=e))
        timed("intent mix", lambda s=start, e=end: reports.intent_mix(start=s, end=e))
        timed("tags", lambda s=start, e=end: reports.tag_counts(start=s, end=e))
        period = Period(
            first=(end - dt.timedelta(days=days)).date(),
            last=(end - dt.timedelta(days=1)).date(),
            preset="",
        )
        timed(
            "the whole dashboard (every figure)",
            lambda p=period: figures(p, now=now, tz=dt.UTC),
        )
        alternating(start, end, now)


if __name__ == "__main__":
    main()

"""Benchmark of the inbox screen on PostgreSQL: list fragment and thread under a large table.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/webcare_bench .venv/bin/python bench/inbox.py

Generates ``--tickets`` tickets with ``--messages`` messages in total (default 1,000,000 and
5,000,000) unless the database already holds at least that many (``--regenerate`` forces it),
then measures the server time of the htmx list fragment (first page, a filtered view, a page
50,000 rows deep) and of a 200-message thread through Django's test client: p50/p95 over
``--runs`` requests after a warm-up. The database named in DATABASE_URL is migrated and FILLED:
use a database of its own.

Rows are generated inside PostgreSQL with ``INSERT … SELECT generate_series`` instead of COPY
from Python: the same bulk path without sending 6 million rows over the socket, several times
faster on this 2-core machine. Secondary indexes of the message table are dropped during the
load and built afterwards.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib
import os
import platform
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "webcare.settings")
os.environ.setdefault("AXES_ENABLED", "0")
# Measure what production runs: no debug toolbar of Django's own (query log, template debug).
os.environ.setdefault("DEBUG", "0")
os.environ.setdefault("SECRET_KEY", "bench-only-not-a-secret")  # noqa: S105
os.environ.setdefault("SECURE_SSL_REDIRECT", "0")

import django  # noqa: E402

django.setup()

from django.conf import settings as _settings  # noqa: E402

# No collectstatic here: plain static URLs instead of the production manifest.
_settings.STORAGES = {
    **_settings.STORAGES,
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402

THREAD_SIZE = 200
TEAMS = 4
CUSTOMERS = 200_000

MESSAGE_INDEXES = [
    "message_thread_order",
    "message_outbound_state",
    "message_text_search",
]


def log(text: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {text}", flush=True)


def sql(statement: str, params: list | None = None) -> None:
    with connection.cursor() as cursor:
        cursor.execute(statement, params or [])


def scalar(statement: str, params: list | None = None):
    with connection.cursor() as cursor:
        cursor.execute(statement, params or [])
        return cursor.fetchone()[0]


def setup_people():
    from django.contrib.auth.models import Group, User

    from channels.services import channel_create
    from inbox.models import AgentProfile, Team

    teams = [Team.objects.get_or_create(name=f"Bench team {n}")[0] for n in range(TEAMS)]
    lead, _ = User.objects.get_or_create(username="bench_lead", defaults={"first_name": "Lea"})
    agent, _ = User.objects.get_or_create(username="bench_agent", defaults={"first_name": "Ada"})
    lead.groups.add(Group.objects.get(name="lead"))
    agent.groups.add(Group.objects.get(name="agent"))
    teams[0].members.add(agent)
    teams[1].members.add(agent)
    for user in (lead, agent):
        AgentProfile.objects.get_or_create(user=user, defaults={"time_zone": "UTC"})
    from channels.models import Channel

    channels = list(Channel.objects.filter(name__startswith="Bench channel").order_by("pk"))
    while len(channels) < 3:
        channels.append(
            channel_create(kind="simulator", name=f"Bench channel {len(channels)}", settings={})
        )
    return lead, agent, teams, channels


def generate(n_tickets: int, n_messages: int, teams, channels) -> None:
    team_ids = [t.pk for t in teams]
    channel_ids = [c.pk for c in channels]
    per_ticket = max(1, round((n_messages - THREAD_SIZE) / n_tickets))
    log(f"clearing and generating {n_tickets:,} tickets, ~{n_messages:,} messages")
    sql(
        "TRUNCATE inbox_message, inbox_ticket_tags, inbox_activity, inbox_ticket, "
        "inbox_identity, inbox_customer RESTART IDENTITY CASCADE"
    )
    sql("SET maintenance_work_mem = '1GB'")
    t0 = time.perf_counter()
    sql(
        """
        INSERT INTO inbox_customer (id, display_name, vip, note, created_at)
        SELECT g, 'Customer ' || g, false, '', now() FROM generate_series(1::bigint, %s) g
        """,
        [CUSTOMERS],
    )
    sql(
        """
        INSERT INTO inbox_identity (id, platform, platform_user_id, customer_id, handle,
            display_name, avatar_url, profile_url, followers, verified, updated_at)
        SELECT g, 'simulator', 'bench-' || g, g, 'customer' || g, 'Customer ' || g, '', '',
            (g * 37) %% 5000, g %% 97 = 0, now()
        FROM generate_series(1::bigint, %s) g
        """,
        [CUSTOMERS],
    )
    # ~10% open or new (100,000 of a million: the live queue is deep), 5% pending, the rest
    # closed; waiting times spread over the last week; teams, kinds and channels round-robin.
    sql(
        """
        INSERT INTO inbox_ticket (id, channel_id, kind, thread_key, customer_id, identity_id,
            status, assignee_id, team_id, priority, intent, intent_corrected, language,
            rating, subject, last_message_preview, platform_url, created_at, updated_at,
            first_inbound_at, last_inbound_at, waiting_since, closed_at, close_reason,
            version, routing_trace, priority_parts)
        SELECT g,
            (%s::bigint[])[1 + g %% %s],
            (ARRAY['mention','dm','comment','review'])[1 + (g / 7) %% 4],
            'bench:' || g,
            1 + (g * 7919) %% %s, 1 + (g * 7919) %% %s,
            CASE WHEN g %% 20 = 0 THEN 'new' WHEN g %% 10 = 1 THEN 'open'
                 WHEN g %% 20 = 3 THEN 'pending' ELSE 'closed' END,
            NULL,
            (%s::bigint[])[1 + (g / 3) %% %s],
            0,
            (ARRAY['complaint','question','compliment'])[1 + (g / 11) %% 3],
            false, 'nl',
            CASE WHEN (g / 7) %% 4 = 3 THEN 1 + g %% 5 END,
            '', 'Bench message for ticket ' || g, '',
            now() - interval '8 days', now() - ((g %% 600000) * interval '1 second'),
            now() - interval '7 days', now() - ((g * 13 %% 604800) * interval '1 second'),
            CASE WHEN g %% 20 = 0 OR g %% 10 = 1
                 THEN now() - ((g * 13 %% 604800) * interval '1 second') END,
            CASE WHEN NOT (g %% 20 = 0 OR g %% 10 = 1 OR g %% 20 = 3) THEN now() END,
            '', 1, '[]'::jsonb, '[]'::jsonb
        FROM generate_series(1::bigint, %s) g
        """,
        [channel_ids, len(channel_ids), CUSTOMERS, CUSTOMERS, team_ids, len(team_ids), n_tickets],
    )
    log(f"customers and tickets in {time.perf_counter() - t0:.0f} s")
    for name in MESSAGE_INDEXES:
        sql(f"DROP INDEX IF EXISTS {name}")
    t0 = time.perf_counter()
    sql(
        """
        INSERT INTO inbox_message (ticket_id, channel_id, direction, external_id,
            author_identity_id, text, sent_at, created_at, raw, url, parent_external_id, hidden,
            reply_mode, delivery_state, failure_reason, attempts, send_options, review_note,
            close_on_approval, language)
        SELECT t.id, t.channel_id,
            CASE WHEN k %% 2 = 1 THEN 'in' ELSE 'out' END,
            'bm-' || t.id || '-' || k,
            CASE WHEN k %% 2 = 1 THEN t.identity_id END,
            (ARRAY['Waar blijft mijn pakket? Bestelling ' || t.id,
                   'My order ' || t.id || ' arrived broken, the box was crushed.',
                   'Bedankt voor de snelle hulp!',
                   'We are sorry to hear that, could you DM us your order number?'])[1 + k %% 4],
            t.created_at + k * interval '1 minute', t.created_at, '{}'::jsonb, '', '', false,
            CASE WHEN k %% 2 = 0 THEN 'public' ELSE '' END,
            CASE WHEN k %% 2 = 0 THEN 'sent' ELSE '' END, '', 0, '{}'::jsonb, '', false,
            (ARRAY['nl', 'en', 'nl', 'en'])[1 + k %% 4]
        FROM inbox_ticket t CROSS JOIN generate_series(1, %s) k
        """,
        [per_ticket],
    )
    # One long thread for the thread benchmark: the first open ticket gets 200 messages.
    sql(
        """
        INSERT INTO inbox_message (ticket_id, channel_id, direction, external_id,
            author_identity_id, text, sent_at, created_at, raw, url, parent_external_id, hidden,
            reply_mode, delivery_state, failure_reason, attempts, send_options, review_note,
            close_on_approval, language)
        SELECT t.id, t.channel_id, CASE WHEN k %% 2 = 1 THEN 'in' ELSE 'out' END,
            'long-' || k, CASE WHEN k %% 2 = 1 THEN t.identity_id END,
            'Long thread message ' || k, t.created_at + k * interval '1 second', t.created_at,
            '{}'::jsonb, '', '', false, CASE WHEN k %% 2 = 0 THEN 'public' ELSE '' END,
            CASE WHEN k %% 2 = 0 THEN 'sent' ELSE '' END, '', 0, '{}'::jsonb, '', false, 'en'
        FROM inbox_ticket t CROSS JOIN generate_series(1, %s) k WHERE t.id = 1
        """,
        [THREAD_SIZE - per_ticket],
    )
    log(f"messages in {time.perf_counter() - t0:.0f} s; building indexes")
    t0 = time.perf_counter()
    sql("CREATE INDEX message_thread_order ON inbox_message (ticket_id, sent_at, id)")
    sql(
        "CREATE INDEX message_outbound_state ON inbox_message (delivery_state, created_at) "
        "WHERE direction = 'out'"
    )
    search = importlib.import_module("inbox.migrations.0026_message_language_search")
    sql(search.SEARCH_INDEX)
    for table in ("inbox_customer", "inbox_identity", "inbox_ticket", "inbox_message"):
        sql(
            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
            f"(SELECT COALESCE(MAX(id), 1) FROM {table}))"
        )
        sql(f"VACUUM ANALYZE {table}")
    log(f"indexes and analyze in {time.perf_counter() - t0:.0f} s")


class SqlTimer:
    """Adds up the time spent in SQL (sending, waiting, fetching) during one request."""

    def __init__(self) -> None:
        self.total = 0.0
        self.count = 0

    def __call__(self, execute, sql, params, many, context):
        t0 = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.total += time.perf_counter() - t0
            self.count += 1


def p95_of(values: list[float]) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(0.95 * len(values))) - 1)]


def measure(client: Client, url: str, runs: int, headers: dict) -> dict:
    for _ in range(3):
        response = client.get(url, **headers)
        assert response.status_code == 200, (url, response.status_code)
    times, sql_times = [], []
    for _ in range(runs):
        timer = SqlTimer()
        with connection.execute_wrapper(timer):
            t0 = time.perf_counter()
            response = client.get(url, **headers)
            times.append((time.perf_counter() - t0) * 1000)
        sql_times.append(timer.total * 1000)
        assert response.status_code == 200
    return {
        "p50": statistics.median(times),
        "p95": p95_of(times),
        "sql_p50": statistics.median(sql_times),
        "queries": timer.count,
        "size": len(response.content),
    }


def deep_cursor(depth: int) -> str:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT waiting_since, id FROM inbox_ticket WHERE status IN ('new','open') "
            "ORDER BY waiting_since NULLS LAST, id OFFSET %s LIMIT 1",
            [depth - 1],
        )
        row = cursor.fetchone()
    if row is None:
        raise SystemExit(f"fewer than {depth} open tickets: generate more")
    ws, pk = row
    return f"{ws.isoformat() if ws else '-'}|{pk}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tickets", type=int, default=1_000_000)
    parser.add_argument("--messages", type=int, default=5_000_000)
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--depth", type=int, default=50_000)
    parser.add_argument("--regenerate", action="store_true")
    args = parser.parse_args()
    if not settings.IS_POSTGRES:
        raise SystemExit("Set DATABASE_URL=postgres://... (the benchmark is about PostgreSQL).")
    # No setup_test_environment(): it instruments every template render (signals and context
    # copies for assertions), which production never pays for.
    settings.ALLOWED_HOSTS = ["*"]
    call_command("migrate", verbosity=0)
    lead, agent, teams, channels = setup_people()
    have = scalar("SELECT COUNT(*) FROM inbox_ticket")
    if args.regenerate or have < args.tickets:
        generate(args.tickets, args.messages, teams, channels)
    n_tickets = scalar("SELECT COUNT(*) FROM inbox_ticket")
    n_messages = scalar("SELECT reltuples::bigint FROM pg_class WHERE relname = 'inbox_message'")
    log(f"measuring on {n_tickets:,} tickets, ~{n_messages:,} messages")

    from django.urls import reverse

    htmx = {"HTTP_HX_REQUEST": "true"}
    index = reverse("inbox:index")
    thread_id = 1
    cases = []
    for who in (lead, agent):
        client = Client()
        client.force_login(who)
        cases += [
            (who.username, "list, first page (all open)", client, f"{index}?view=open"),
            (
                who.username,
                "list, filtered (unassigned DMs on one channel)",
                client,
                f"{index}?view=unassigned&kind=dm&channel={channels[0].pk}",
            ),
            (
                who.username,
                f"list, page {args.depth:,} rows deep",
                client,
                f"{index}?view=open&after={deep_cursor(args.depth)}".replace("+", "%2B"),
            ),
            (
                who.username,
                f"thread, {THREAD_SIZE} messages",
                client,
                reverse("inbox:thread", args=[thread_id]),
            ),
        ]
    results = []
    for who, label, client, url in cases:
        m = measure(client, url, args.runs, htmx)
        results.append((who, label, m))
        log(
            f"{who:12} {label:48} p50 {m['p50']:6.1f} ms  p95 {m['p95']:6.1f} ms  "
            f"SQL p50 {m['sql_p50']:5.1f} ms in {m['queries']} queries  ({m['size']:,} bytes)"
        )

    machine = f"{platform.node()} · {os.cpu_count()} cores · Python {platform.python_version()}"
    pg = scalar("SHOW server_version")
    print()
    print(
        f"Inbox benchmark {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC — {machine} · "
        f"PostgreSQL {pg} — {n_tickets:,} tickets, ~{n_messages:,} messages, {args.runs} runs"
    )
    print("| user | request | p50 ms | p95 ms | of which SQL (p50) ms | queries |")
    print("| --- | --- | ---: | ---: | ---: | ---: |")
    for who, label, m in results:
        print(
            f"| {who} | {label} | {m['p50']:.1f} | {m['p95']:.1f} | {m['sql_p50']:.1f} "
            f"| {m['queries']} |"
        )
    print(f"\nload average during the run: {os.getloadavg()[0]:.2f} (1 min)")


if __name__ == "__main__":
    main()

"""Time the audit log and the people pages on large tables (PostgreSQL).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/<a database of its own> \
        .venv/bin/python bench/audit.py --activities 2000000 --tickets 200000

Fills the tables once (``generate_series``): tickets spread over 10 agents (30% open), and
activity rows over 60 days — 95% about a ticket, 5% settings changes, 40% without an actor, 30
verbs of which one is rare. Then renders each page through Django's test client (middleware,
session, template; not the network) and prints the median of ``--runs`` runs after one warm-up.
Results go into docs/benchmarks.md by hand.
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
from django.contrib.auth.models import Group  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.urls import reverse  # noqa: E402

from channels.models import Channel  # noqa: E402
from inbox.audit import selectors as audit  # noqa: E402
from inbox.models import Activity, AgentProfile, Team, Ticket  # noqa: E402

START = dt.datetime(2026, 9, 1, tzinfo=dt.UTC)
DAYS = 60
VERBS = [f"verb_{n:02d}" for n in range(29)] + ["rare_verb"]

FILL_TICKETS = """
INSERT INTO inbox_ticket (
    channel_id, kind, thread_key, status, team_id, assignee_id, priority, priority_parts,
    intent, intent_corrected, language, subject, last_message_preview, platform_url,
    created_at, updated_at, waiting_since, close_reason, version, routing_trace)
SELECT %(channel)s, 'mention', 'audit-bench-' || i,
    CASE WHEN i %% 10 < 7 THEN 'closed' ELSE 'open' END, %(team)s,
    CASE WHEN i %% 10 = 9 THEN NULL ELSE (%(users)s::bigint[])[1 + (i %% %(n_users)s)] END,
    0, '[]', 'other', false, 'nl', '', '', '', now(), now(),
    CASE WHEN i %% 10 >= 7 THEN now() - (i || ' seconds')::interval END, '', 1, '[]'
FROM generate_series(1, %(n)s) AS i
"""

FILL_ACTIVITIES = """
INSERT INTO inbox_activity (ticket_id, actor_id, verb, before, after, created_at)
SELECT
    CASE WHEN i %% 20 = 0 THEN NULL ELSE (%(tickets)s::bigint[])[1 + (i %% %(n_tickets)s)] END,
    CASE WHEN i %% 5 < 2 THEN NULL ELSE (%(users)s::bigint[])[1 + (i %% %(n_users)s)] END,
    CASE WHEN i %% 100000 = 7 THEN 'rare_verb'
         ELSE (%(verbs)s::text[])[1 + (i %% 29)] END,
    jsonb_build_object('assignee', NULL, 'status', 'new'),
    jsonb_build_object('assignee', (%(users)s::bigint[])[1 + (i %% %(n_users)s)],
                       'status', 'open'),
    %(start)s::timestamptz + (i * (%(span)s / %(total)s)) * interval '1 second'
FROM generate_series(%(first)s::bigint, %(last)s::bigint) AS i
"""


def fill(n_activities: int, n_tickets: int) -> dict:
    User = get_user_model()
    admin_group, _ = Group.objects.get_or_create(name="admin")
    agent_group, _ = Group.objects.get_or_create(name="agent")
    admin, _ = User.objects.get_or_create(username="audit-bench-admin")
    admin.groups.add(admin_group)
    team, _ = Team.objects.get_or_create(name="Audit bench")
    users = []
    for n in range(10):
        user, _ = User.objects.get_or_create(username=f"audit-bench-agent-{n}")
        user.groups.add(agent_group)
        AgentProfile.objects.get_or_create(user=user)
        team.members.add(user)
        users.append(user.pk)
    channel, _ = Channel.objects.get_or_create(
        name="audit bench", defaults={"kind": "simulator", "settings": {"seed": 1}}
    )
    began = time.perf_counter()
    with connection.cursor() as cursor:
        if not Ticket.objects.filter(thread_key__startswith="audit-bench-").exists():
            cursor.execute(
                FILL_TICKETS,
                {
                    "channel": channel.pk,
                    "team": team.pk,
                    "users": users,
                    "n_users": len(users),
                    "n": n_tickets,
                },
            )
        tickets = list(
            Ticket.objects.filter(thread_key__startswith="audit-bench-").values_list(
                "pk", flat=True
            )
        )
        have = Activity.objects.filter(verb__in=VERBS).count()
        if have < n_activities:
            cursor.execute(
                FILL_ACTIVITIES,
                {
                    "tickets": tickets,
                    "n_tickets": len(tickets),
                    "users": users,
                    "n_users": len(users),
                    "verbs": VERBS[:29],
                    "start": START.isoformat(),
                    "span": DAYS * 86400.0,
                    "total": float(n_activities),
                    "first": have + 1,
                    "last": n_activities,
                },
            )
        cursor.execute("ANALYZE inbox_ticket")
        cursor.execute("ANALYZE inbox_activity")
    print(f"filled in {time.perf_counter() - began:.1f} s")
    return {"admin": admin, "users": users, "team": team, "tickets": tickets}


def median_ms(client: Client, url: str, params: dict, runs: int) -> float:
    client.get(url, params)
    times = []
    for _ in range(runs):
        began = time.perf_counter()
        response = client.get(url, params)
        times.append((time.perf_counter() - began) * 1000)
        assert response.status_code == 200, response.status_code
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--activities", type=int, default=2_000_000)
    parser.add_argument("--tickets", type=int, default=200_000)
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    if not settings.IS_POSTGRES:
        sys.exit("bench/audit.py needs DATABASE_URL=postgres://...")
    settings.DEBUG = False
    settings.ALLOWED_HOSTS = ["*"]
    call_command("migrate", verbosity=0)
    world = fill(args.activities, args.tickets)
    client = Client()
    client.force_login(world["admin"])
    actor = world["users"][3]

    def middle(**filters) -> str:
        """The cursor half-way down the filtered log: a deep page."""
        qs = audit.filtered(audit.AuditFilter(**filters))
        n = qs.count()
        row = qs[n // 2]
        return f"{row.created_at.isoformat()}|{row.pk}"

    log = reverse("pages:audit")
    day = (START + dt.timedelta(days=30)).date().isoformat()
    cases = [
        ("audit: newest page", log, {}),
        ("audit: page half-way down", log, {"after": middle()}),
        ("audit: one actor", log, {"actor": actor}),
        ("audit: one actor, half-way", log, {"actor": actor, "after": middle(actor=str(actor))}),
        ("audit: system (no actor)", log, {"actor": "system"}),
        ("audit: one verb", log, {"verb": "verb_05"}),
        ("audit: a rare verb", log, {"verb": "rare_verb"}),
        ("audit: one ticket", log, {"ticket": world["tickets"][100]}),
        ("audit: settings changes", log, {"scope": "settings"}),
        ("audit: one day", log, {"from": day, "to": day}),
        ("audit: actor + verb", log, {"actor": actor, "verb": "verb_13"}),
        ("people: users", reverse("pages:people"), {}),
        ("people: teams", reverse("pages:people_teams"), {}),
        (
            "people: team load",
            reverse("pages:people_team", args=[world["team"].pk]),
            {},
        ),
        ("settings start page", reverse("pages:start"), {}),
    ]
    total = Activity.objects.count()
    print(f"{total} activities, {Ticket.objects.count()} tickets; median of {args.runs} runs")
    for name, url, params in cases:
        print(f"  {name:<32} {median_ms(client, url, params, args.runs):8.1f} ms")


if __name__ == "__main__":
    main()

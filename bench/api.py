"""Benchmark of the REST API's ticket list and of outbound webhook fan-out, on PostgreSQL.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/webcare_bench .venv/bin/python bench/api.py

The same database as ``bench/inbox.py`` (its generator fills it when it holds fewer than
``--tickets``; the database is migrated and FILLED: use one of its own). Measures through
Django's test client with a lead's and an agent's API token: ``GET /api/v1/tickets`` at 25 and
100 rows (p50/p95 and statements per request, which must not grow with the rows), a filtered
list and a page deep in the list. Then the webhook fan-out: ``--deliveries`` outbox rows to a
local receiver on 127.0.0.1 (allowed by ``WEBHOOKS_ALLOW_PRIVATE``), sent by one worker
(``deliver_due`` in this process), deliveries per second.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import platform
import statistics
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

_spec = importlib.util.spec_from_file_location("bench_inbox", Path(__file__).with_name("inbox.py"))
bench_inbox = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bench_inbox)  # sets up Django exactly as bench/inbox.py does

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402


def measure(client: Client, url: str, runs: int, headers: dict) -> dict:
    for _ in range(3):
        response = client.get(url, **headers)
        assert response.status_code == 200, (url, response.status_code, response.content[:200])
    times, counts = [], []
    for _ in range(runs):
        timer = bench_inbox.SqlTimer()
        with connection.execute_wrapper(timer):
            t0 = time.perf_counter()
            response = client.get(url, **headers)
            times.append((time.perf_counter() - t0) * 1000)
        counts.append(timer.count)
        assert response.status_code == 200
    return {
        "p50": statistics.median(times),
        "p95": bench_inbox.p95_of(times),
        "statements": max(counts),
        "rows": len(response.json()["items"]),
    }


class _Sink(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self):  # noqa: N802
        self.rfile.read(int(self.headers["Content-Length"]))
        self.send_response(204)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


def fan_out(n: int) -> float:
    from inbox.api import webhooks
    from inbox.models import OutboundDelivery, WebhookSubscription

    settings.WEBHOOKS_ALLOW_PRIVATE = True
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Sink)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/hook"
    sub = WebhookSubscription.objects.create(url=url, events=["ticket.closed"], secret="b" * 64)
    body = json.dumps({"event": "ticket.closed", "data": {"x": 1}})
    OutboundDelivery.objects.bulk_create(
        OutboundDelivery(subscription=sub, event="ticket.closed", ticket_id=i % 5000, body=body)
        for i in range(n)
    )
    t0 = time.perf_counter()
    sent = 0
    while sent < n:
        done = webhooks.deliver_due(limit=n)
        if not done:
            break
        sent += done
    elapsed = time.perf_counter() - t0
    delivered = OutboundDelivery.objects.filter(subscription=sub, status="delivered").count()
    sub.delete()
    server.shutdown()
    return delivered / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tickets", type=int, default=1_000_000)
    parser.add_argument("--messages", type=int, default=5_000_000)
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--deliveries", type=int, default=5000)
    args = parser.parse_args()
    if not settings.IS_POSTGRES:
        raise SystemExit("Set DATABASE_URL=postgres://... (the benchmark is about PostgreSQL).")
    settings.ALLOWED_HOSTS = ["*"]
    settings.API_THROTTLE = "1000000/min"
    call_command("migrate", verbosity=0)
    lead, agent, teams, channels = bench_inbox.setup_people()
    have = bench_inbox.scalar("SELECT COUNT(*) FROM inbox_ticket")
    if have < args.tickets:
        bench_inbox.generate(args.tickets, args.messages, teams, channels)
    n = bench_inbox.scalar("SELECT COUNT(*) FROM inbox_ticket")
    bench_inbox.log(f"measuring on {n:,} tickets")

    from inbox.api.services import token_create

    results = []
    client = Client()
    for who in (lead, agent):
        raw = token_create(user=who, owner=who, name="bench", scope="read")[1]
        headers = {"HTTP_AUTHORIZATION": f"Bearer {raw}"}
        for label, query in (
            ("25 rows", "limit=25"),
            ("100 rows", "limit=100"),
            ("filtered, 50 rows", f"view=unassigned&kind=dm&channel={channels[0].pk}"),
        ):
            m = measure(client, f"/api/v1/tickets?{query}", args.runs, headers)
            results.append((who.username, label, m))
            bench_inbox.log(
                f"{who.username:12} {label:20} p50 {m['p50']:6.1f} ms  p95 {m['p95']:6.1f} ms  "
                f"{m['statements']} statements, {m['rows']} rows"
            )
    rate = fan_out(args.deliveries)
    bench_inbox.log(f"webhook fan-out: {rate:,.0f} deliveries/s (one worker, {args.deliveries:,})")
    bench_inbox.log(f"{platform.node()} · {platform.processor() or platform.machine()}")


if __name__ == "__main__":
    main()

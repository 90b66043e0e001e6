"""Micro-timing of the inbox list's rows: render the list fragment of one page (50 tickets)
from tickets already loaded, so the timing holds no SQL, only rendering.

    .venv/bin/python bench/inbox_rows.py [--runs 400] [--rows 50]

Works on the embedded default (an in-memory SQLite test database is created and thrown away;
a DATABASE_URL is ignored). Rows look like a busy queue: names, handles, previews, stars on
some, two tags each, an assignee on half, a colleague viewing on a few, SLA due times. Prints
the median and p95 (wall clock) and the median CPU time over ``--runs`` renders after a
warm-up, with ``DEBUG=0`` (cached template loader, no template debug) as production runs.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.pop("DATABASE_URL", None)
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "webcare.settings")
os.environ.setdefault("DEBUG", "0")
os.environ.setdefault("SECRET_KEY", "bench-only-not-a-secret")  # noqa: S105
os.environ.setdefault("SECURE_SSL_REDIRECT", "0")

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402
from django.template.loader import render_to_string  # noqa: E402
from django.test.client import RequestFactory  # noqa: E402
from django.utils import timezone  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=400)
    parser.add_argument("--rows", type=int, default=50)
    parser.add_argument("--dump", help="write the rendered fragment to this file")
    args = parser.parse_args()

    connection.creation.create_test_db(verbosity=0)
    from inbox.models import Tag, Team, Ticket
    from inbox.tickets import selectors
    from tests.personas import person, tickets

    team = Team.objects.create(name="Support")
    lead = person("lotte", "lead")
    agent = person("anna", team=team)
    made = tickets(args.rows, team=team)
    now = timezone.now()
    gold, refund = Tag.objects.create(name="gold"), Tag.objects.create(name="refund")
    for i, t in enumerate(made):
        t.tags.add(gold, refund)
        Ticket.objects.filter(pk=t.pk).update(
            rating=(i % 5) + 1 if i % 3 == 0 else None,
            assignee=agent if i % 2 else None,
            last_message_preview=f"Mijn pakket <{i}> is nog steeds niet bezorgd & ik wacht al",
            waiting_since=now - dt.timedelta(minutes=7 * i + 3),
            due_at=now + dt.timedelta(minutes=5 * i - 40),
        )
    page = selectors.ticket_page(lead, selectors.ListFilter())
    for i, t in enumerate(page.tickets):
        t.viewers = [{"name": "Anna", "typing": bool(i % 2)}] if i % 10 == 0 else []
    request = RequestFactory().get("/")
    request.user = lead
    context = {"page": page, "flt": selectors.ListFilter(), "selected_id": page.tickets[3].pk}

    def render() -> str:
        return render_to_string("inbox/screen/inbox.html#list", context, request=request)

    html = render()
    if args.dump:
        Path(args.dump).write_text(html)
    assert html.count('<tr id="row-') == len(page.tickets) == args.rows, "not one page of rows"
    for _ in range(20):
        render()
    times, cpu = [], []
    for _ in range(args.runs):
        start, start_cpu = time.perf_counter(), time.process_time()
        render()
        cpu.append((time.process_time() - start_cpu) * 1000)
        times.append((time.perf_counter() - start) * 1000)
    times.sort()
    p95 = times[int(len(times) * 0.95) - 1]
    # CPU time as well: the machine is shared, and wall time includes waiting for a core.
    print(
        f"list fragment, {args.rows} rows: median {statistics.median(times):.2f} ms, "
        f"p95 {p95:.2f} ms, CPU median {statistics.median(cpu):.2f} ms over {args.runs} renders"
    )


if __name__ == "__main__":
    main()

"""Load: 50 agents work the inbox while ingest runs at 1,000 messages/s into 1M tickets.

    export DATABASE_URL=postgres://postgres@127.0.0.1:5432/webcare_load
    export REDIS_URL=redis://127.0.0.1:6379/10
    python bench/load.py [--agents 50] [--seconds 120] [--rate 1000] [--web-workers 3]

Needs a database with the 1M tickets of ``bench/inbox.py`` (run that first on the same
DATABASE_URL). Everything runs on loopback and stops by itself after ``--seconds``:

- the web server as in production: gunicorn, ``DEBUG=0``, PostgreSQL and Redis; requests carry
  ``X-Forwarded-Proto: https`` as a TLS-terminating proxy would send them, so secure cookies,
  CSRF and HSTS settings stay as they are in production;
- one Celery worker (sends the agents' replies to the simulator channel);
- an ingest process storing ``--rate`` messages a second through the real ingest service
  (``inbox.ingest.services.ingest_batch``) in batches every 100 ms: new threads and follow-ups,
  plus one
  probe ticket every half second on a channel of its own;
- ``--agents`` agents, each a thread with its own session: they log in, poll their list every
  4 s as the page does (sending the stamp, so an unchanged list costs a 204), switch views and
  filters, search, page deeper, open threads (and poll them), claim, reply, tag and close;
- a watcher: an open inbox on the probe channel polled every ``--watch-interval`` seconds; the
  time from a probe's commit to the first list answer that shows it is "ingest to visible".

Prints p50/p95/p99 per endpoint, errors, and the ingest-to-visible percentiles, and writes them
as JSON to ``var/load-<date>.json``. Figures and their machine: docs/reliability.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "webcare.settings")

from bench.load_agents import PASSWORD, Agent, Stats, agent_loop, watch_loop  # noqa: E402

TEAM = "Load team"
LOAD_CHANNEL = "Load channel"
PROBE_CHANNEL = "Load probe"


def setup() -> dict:
    """Users, team and channels of the load run (created once, reused)."""
    import django

    django.setup()
    from django.contrib.auth.models import Group, User
    from django.db import connection
    from django.utils import timezone

    from channels.models import Channel
    from channels.services import channel_create
    from inbox.models import AgentProfile, Team, Ticket

    with connection.cursor() as cursor:  # the planner's estimate: an exact count is slow
        cursor.execute("SELECT reltuples::bigint FROM pg_class WHERE relname = 'inbox_ticket'")
        have = cursor.fetchone()[0]
    team, _ = Team.objects.get_or_create(name=TEAM)
    agent_group = Group.objects.get(name="agent")
    for n in range(100):
        user, created = User.objects.get_or_create(
            username=f"load{n:02}", defaults={"first_name": f"Load{n:02}"}
        )
        if created:
            user.set_password(PASSWORD)
            user.save()
            user.groups.add(agent_group)
            team.members.add(user)
            AgentProfile.objects.get_or_create(user=user, defaults={"time_zone": "UTC"})
    channels = {}
    for name in (LOAD_CHANNEL, PROBE_CHANNEL):
        channel = Channel.objects.filter(name=name).first() or channel_create(
            kind="simulator", name=name, settings={}
        )
        Channel.objects.filter(pk=channel.pk).update(default_team=team, enabled=False)
        channels[name] = channel.pk
    # Every run starts from the same inbox: the 1M tickets of bench/inbox.py, not also the
    # open tickets of earlier runs (each run leaves ~100,000 in the load team's queue, which
    # made every later run's filtered lists slower) nor their probes (the watcher's view).
    Ticket.objects.filter(channel_id__in=channels.values()).exclude(status="closed").update(
        status="closed", closed_at=timezone.now()
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE inbox_ticket")
    return {"tickets": have, "channels": channels}


# --- the ingest process ----------------------------------------------------------------------
def ingest_child(
    rate: int, seconds: float, load_channel: int, probe_channel: int, run: str
) -> None:
    """Store ``rate`` messages a second; print ``probe <n> <commit time>`` for every probe."""
    import django

    django.setup()
    from channels.base import InboundAuthor, InboundItem
    from inbox.ingest.services import ingest_batch

    per_tick = max(1, rate // 10)
    seq = probe = 0
    stored = 0
    start = time.monotonic()
    next_probe = start
    tick = start
    while time.monotonic() - start < seconds:
        now = dt.datetime.now(dt.UTC)
        items = []
        for _ in range(per_tick):
            seq += 1
            thread = seq // 3  # about three messages a thread
            uid = f"L{run}u{thread}"
            items.append(
                InboundItem(
                    external_id=f"L{run}m{seq}",
                    thread_key=f"L{run}t{thread}",
                    kind="mention",
                    text=f"Waar blijft mijn bestelling {seq}? Al drie dagen niks gehoord 😡",
                    sent_at=now,
                    author=InboundAuthor(platform_user_id=uid, handle=uid, display_name=uid),
                )
            )
        ingest_batch(channel_id=load_channel, items=items, cursor={"load": seq})
        stored += len(items)
        if time.monotonic() >= next_probe:
            probe += 1
            ingest_batch(
                channel_id=probe_channel,
                items=[
                    InboundItem(
                        external_id=f"P{run}m{probe}",
                        thread_key=f"P{run}t{probe}",
                        kind="dm",
                        text=f"probe-{run}-{probe}-x",
                        sent_at=now,
                        author=InboundAuthor(platform_user_id=f"P{run}", handle="probe"),
                    )
                ],
                cursor={"probe": probe},
            )
            print(f"probe {probe} {time.time():.4f}", flush=True)
            next_probe += 0.5
        tick += 0.1
        pause = tick - time.monotonic()
        if pause > 0:
            time.sleep(pause)
    elapsed = time.monotonic() - start
    print(f"ingested {stored} {elapsed:.2f}", flush=True)


def claimed_first(probe_channel: int, run: str, numbers: list[int]) -> int:
    """How many of these probes' tickets an agent claimed (the watcher never claims)."""
    from inbox.models import Ticket

    keys = [f"P{run}t{n}" for n in numbers]
    return Ticket.objects.filter(
        channel_id=probe_channel, thread_key__in=keys, assignee__isnull=False
    ).count()


# --- orchestration ---------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--agents", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=120)
    parser.add_argument("--rate", type=int, default=1000, help="ingested messages a second")
    parser.add_argument("--web-workers", type=int, default=3)
    parser.add_argument("--watch-interval", type=float, default=1.0)
    parser.add_argument("--min-tickets", type=int, default=1_000_000)
    parser.add_argument("--ingest-child", nargs=5, help=argparse.SUPPRESS)
    return parser.parse_args()


def servers_start(args: argparse.Namespace, port: int) -> list[subprocess.Popen]:
    """The web server (gunicorn, as in production) and one Celery worker."""
    env = {
        **os.environ,
        "DEBUG": "0",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "0",
        "LOG_LEVEL": "WARNING",
        "DATABASE_STATEMENT_TIMEOUT": "10000",
    }
    venv_bin = Path(sys.executable).parent
    # Production serves hashed static files from the collected folder (whitenoise's manifest).
    subprocess.run(  # noqa: S603 - our own command
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"],
        cwd=ROOT,
        env=env,
        check=True,
    )
    return [
        subprocess.Popen(  # noqa: S603 - our own commands
            [str(venv_bin / "gunicorn"), "webcare.wsgi", "-b", f"127.0.0.1:{port}",
             "-w", str(args.web_workers), "--log-level", "warning"],
            cwd=ROOT, env=env,
        ),
        subprocess.Popen(  # noqa: S603 - our own commands
            [str(venv_bin / "celery"), "-A", "webcare", "worker", "-c", "1", "-l", "WARNING",
             "--without-heartbeat", "--without-gossip", "--without-mingle"],
            cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
        ),
    ]  # fmt: skip


def servers_stop(processes: list[subprocess.Popen]) -> None:
    for p in processes:
        p.send_signal(signal.SIGTERM)
    for p in processes:
        try:
            p.wait(timeout=20)
        except subprocess.TimeoutExpired:
            p.kill()


@dataclass
class Run:
    """What one run saw: the agents' timings, when each probe was committed and first seen,
    and what ingest stored in how many seconds."""

    id: str
    stats: Stats
    seen: dict[int, float] = field(default_factory=dict)
    committed: dict[int, float] = field(default_factory=dict)
    ingested: tuple[int, float] | None = None


def run_load(args: argparse.Namespace, base: str, load_channel: int, probe_channel: int) -> Run:
    """Wait for the web server, log the agents in, then run agents, watcher and the ingest
    child together for ``--seconds``."""
    import requests

    for _ in range(300):  # until every worker has booted and the database answers
        try:
            if requests.get(f"{base}/healthz", timeout=2).status_code in (200, 503):
                break
        except requests.RequestException:
            pass
        time.sleep(0.2)
    run = Run(id=secrets.token_hex(3), stats=Stats())
    agents = [Agent(base, f"load{n:02}", run.stats, random.Random(n)) for n in range(args.agents)]
    ready = threading.Barrier(args.agents + 1)
    deadline = time.monotonic() + 15 + args.seconds  # log-in time, then the run
    threads = [
        threading.Thread(target=agent_loop, args=(a, deadline, load_channel, ready)) for a in agents
    ]
    for t in threads:
        t.start()
    ready.wait()
    deadline = time.monotonic() + args.seconds
    watcher = Agent(base, "load99", run.stats, random.Random(99))
    watch = threading.Thread(
        target=watch_loop,
        args=(watcher, deadline + 3, probe_channel, args.watch_interval, run.id, run.seen),
    )
    watch.start()
    ingest = subprocess.Popen(  # noqa: S603 - this script, as the ingest child
        [sys.executable, __file__, "--ingest-child", str(args.rate), str(args.seconds),
         str(load_channel), str(probe_channel), run.id],
        cwd=ROOT, env=os.environ.copy(), stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    for line in ingest.stdout or ():
        parts = line.split()
        if parts[0] == "probe":
            run.committed[int(parts[1])] = float(parts[2])
        elif parts[0] == "ingested":
            run.ingested = (int(parts[1]), float(parts[2]))
    ingest.wait()
    for t in threads:
        t.join()
    watch.join()
    return run


def report_of(args: argparse.Namespace, info: dict, run: Run, probe_channel: int) -> dict:
    """The run's figures: ingest rate, ingest to visible, and p50/p95/p99 per endpoint."""
    seen, committed, ingested = run.seen, run.committed, run.ingested
    visible = [seen[n] - t for n, t in committed.items() if n in seen]
    report = {
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f}",
        "agents": args.agents,
        "seconds": args.seconds,
        "tickets_at_start": info["tickets"],
        "ingest_target_per_s": args.rate,
        "ingested": ingested[0] if ingested else 0,
        "ingest_per_s": round(ingested[0] / ingested[1]) if ingested else 0,
        "probes": len(committed),
        "probes_never_seen": len([n for n in committed if n not in seen]),
        # How long before the last probe each unseen one was committed: one committed in the
        # last second may simply not have been polled yet when the watcher stopped.
        "never_seen_s_before_last_probe": sorted(
            round(max(committed.values()) - t, 2) for n, t in committed.items() if n not in seen
        ),
        # The agents work every channel's unassigned tickets too: one that claimed a probe
        # before the watcher's next look saw it in its own list, so it was not lost.
        "never_seen_claimed_by_an_agent": claimed_first(
            probe_channel, run.id, [n for n in committed if n not in seen]
        ),
        "visible_s": {
            "p50": round(statistics.median(visible), 3) if visible else None,
            "p95": round(pct(visible, 0.95), 3) if visible else None,
            "p99": round(pct(visible, 0.99), 3) if visible else None,
            "watch_interval_s": args.watch_interval,
        },
        "endpoints": {},
    }
    for name in sorted(run.stats.times):
        times = run.stats.times[name]
        report["endpoints"][name] = {
            "count": len(times),
            "p50_ms": round(statistics.median(times) * 1000, 1),
            "p95_ms": round(pct(times, 0.95) * 1000, 1),
            "p99_ms": round(pct(times, 0.99) * 1000, 1),
            "statuses": dict(run.stats.statuses[name]),
        }
    report["errors"] = sum(
        n for r in report["endpoints"].values() for s, n in r["statuses"].items()
        if s.startswith("error") or s.startswith("5")
    )  # fmt: skip
    return report


def report_print(args: argparse.Namespace, report: dict) -> None:
    print(f"\n{'endpoint':22} {'count':>7} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8}  statuses")
    for name, row in report["endpoints"].items():
        print(
            f"{name:22} {row['count']:7} {row['p50_ms']:8} {row['p95_ms']:8} {row['p99_ms']:8}"
            f"  {row['statuses']}"
        )
    print(
        f"\ningested {report['ingested']:,} messages at {report['ingest_per_s']:,}/s "
        f"(target {args.rate:,}/s); errors (5xx or no answer): {report['errors']}"
    )
    print(
        f"ingest → visible (watcher polling every {args.watch_interval} s): "
        f"p50 {report['visible_s']['p50']} s, p95 {report['visible_s']['p95']} s, "
        f"p99 {report['visible_s']['p99']} s; probes {report['probes']}, never seen "
        f"{report['probes_never_seen']} (committed this many s before the last probe: "
        f"{report['never_seen_s_before_last_probe']}; of them claimed by an agent before the "
        f"watcher looked: {report['never_seen_claimed_by_an_agent']})"
    )


def main() -> None:
    args = _arguments()
    if args.ingest_child:
        rate, seconds, load_channel, probe_channel, run_id = args.ingest_child
        ingest_child(int(rate), float(seconds), int(load_channel), int(probe_channel), run_id)
        return
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        raise SystemExit("Set DATABASE_URL=postgres://... and REDIS_URL=redis://... first.")
    info = setup()
    if args.min_tickets and info["tickets"] < args.min_tickets * 0.95:
        raise SystemExit(
            f"The database holds ~{info['tickets']:,} tickets; run bench/inbox.py on it first."
        )
    load_channel, probe_channel = info["channels"][LOAD_CHANNEL], info["channels"][PROBE_CHANNEL]
    port = free_port()
    processes = servers_start(args, port)
    try:
        run = run_load(args, f"http://127.0.0.1:{port}", load_channel, probe_channel)
    finally:
        servers_stop(processes)
    report = report_of(args, info, run, probe_channel)
    report_print(args, report)
    out = ROOT / "var" / f"load-{dt.datetime.now(dt.UTC):%Y%m%d-%H%M}.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(report, indent=2))
    print(f"written to {out}")


if __name__ == "__main__":
    main()

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
import queue
import random
import re
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "webcare.settings")

PASSWORD = "load-test-password-1"  # noqa: S105 - throw-away users of the load database
TEAM = "Load team"
LOAD_CHANNEL = "Load channel"
PROBE_CHANNEL = "Load probe"
TICKET_LINK = re.compile(r'<tr id="row-\d+" class="row" data-id="(\d+)"')
STAMP = re.compile(r'stamp=([^"&]+)')
SEEN = re.compile(r'name="seen_message_id" value="(\d+)"')
MORE = re.compile(r'href="[^"]*[?&]after=([^"&]+)')


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


# --- the agents ------------------------------------------------------------------------------
class Agent:
    def __init__(self, base: str, username: str, stats: Stats, rng: random.Random) -> None:
        import requests

        self.base, self.username, self.stats, self.rng = base, username, stats, rng
        self.http = requests.Session()
        self.http.headers.update(
            {"X-Forwarded-Proto": "https", "Referer": base.replace("http:", "https:") + "/"}
        )
        self.stamp = ""
        self.view = "view=open"
        self.ticket_ids: list[int] = []

    def request(self, name: str, method: str, path: str, **kwargs):
        headers = dict(kwargs.pop("headers", {}))
        # Production cookies are marked Secure, which a client sends over HTTPS only; the
        # requests say they came through HTTPS (X-Forwarded-Proto), so send them by hand.
        headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.http.cookies.items())
        token = self.http.cookies.get("csrftoken")
        if token and method == "POST":
            headers["X-CSRFToken"] = token
        started = time.perf_counter()
        try:
            response = self.http.request(
                method,
                self.base + path,
                headers=headers,
                timeout=30,
                allow_redirects=False,
                **kwargs,
            )
        except Exception as exc:  # noqa: BLE001 - a failed request is a figure, not a crash
            self.stats.add(name, time.perf_counter() - started, f"error {type(exc).__name__}")
            return None
        self.stats.add(name, time.perf_counter() - started, response.status_code)
        return response

    def log_in(self) -> bool:
        self.request("login page", "GET", "/login/")
        response = self.request(
            "log in",
            "POST",
            "/login/",
            data={
                "username": self.username,
                "password": PASSWORD,
                "csrfmiddlewaretoken": self.http.cookies.get("csrftoken", ""),
            },
        )
        return response is not None and response.status_code == 302

    def poll_list(self) -> None:
        htmx = {"HX-Request": "true"}
        response = self.request(
            "list poll", "GET", f"/inbox/list/?{self.view}&stamp={self.stamp}", headers=htmx
        )
        if response is not None and response.status_code == 200:
            self._read_list(response.text)

    def _read_list(self, html: str) -> None:
        found = STAMP.search(html)
        if found:
            self.stamp = found.group(1)
        ids = [int(i) for i in TICKET_LINK.findall(html)]
        if ids:
            self.ticket_ids = ids

    def switch_view(self, channel_id: int) -> None:
        self.view = self.rng.choice(
            [
                "view=open",
                "view=unassigned",
                "view=mine",
                f"view=unassigned&channel={channel_id}",
                "view=open&kind=dm",
                "view=open&q=bestelling",
                "view=compliments",
            ]
        )
        self.stamp = ""
        response = self.request(
            "list view", "GET", f"/?{self.view}", headers={"HX-Request": "true"}
        )
        if response is None or response.status_code != 200:
            return
        self._read_list(response.text)
        more = MORE.search(response.text)
        if more and self.rng.random() < 0.3:
            self.request(
                "list next page",
                "GET",
                f"/?{self.view}&after={more.group(1)}",
                headers={"HX-Request": "true"},
            )

    def work_a_ticket(self) -> None:
        if not self.ticket_ids:
            return
        ticket = self.rng.choice(self.ticket_ids)
        htmx = {"HX-Request": "true"}
        thread = self.request("thread", "GET", f"/inbox/t/{ticket}/", headers=htmx)
        if thread is None or thread.status_code != 200:
            return
        self.request("thread poll", "GET", f"/inbox/t/{ticket}/poll/?v=0", headers=htmx)
        self.request("presence", "POST", f"/inbox/t/{ticket}/presence/", headers=htmx)
        if self.rng.random() < 0.5:
            return
        claimed = self.request("claim", "POST", f"/inbox/t/{ticket}/claim/", headers=htmx)
        if claimed is None or claimed.status_code != 200:
            return
        seen = SEEN.search(thread.text)
        self.request(
            "reply",
            "POST",
            f"/inbox/t/{ticket}/reply/",
            headers=htmx,
            data={
                "mode": "public",
                "text": f"Sorry voor het wachten! We zoeken het uit. ({self.username})",
                "seen_message_id": seen.group(1) if seen else "",
            },
        )
        if self.rng.random() < 0.5:
            self.request(
                "tag", "POST", f"/inbox/t/{ticket}/tag/", headers=htmx, data={"tag": "bezorging"}
            )
        self.request(
            "close", "POST", f"/inbox/t/{ticket}/close/", headers=htmx, data={"reason": ""}
        )


class Stats:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.times: dict[str, list[float]] = defaultdict(list)
        self.statuses: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))

    def add(self, name: str, seconds: float, status) -> None:
        with self.lock:
            self.times[name].append(seconds)
            self.statuses[name][str(status)] += 1


def agent_loop(agent: Agent, deadline: float, channel_id: int, ready: threading.Barrier) -> None:
    ok = agent.log_in()
    ready.wait()
    if not ok:
        return
    agent.switch_view(channel_id)
    next_poll = time.monotonic() + agent.rng.uniform(0, 4)
    next_work = time.monotonic() + agent.rng.uniform(2, 10)
    while time.monotonic() < deadline:
        now = time.monotonic()
        if now >= next_poll:
            agent.poll_list()
            next_poll += 4
        if now >= next_work:
            if agent.rng.random() < 0.3:
                agent.switch_view(channel_id)
            else:
                agent.work_a_ticket()
            next_work = time.monotonic() + agent.rng.uniform(6, 14)
        time.sleep(max(0.0, min(next_poll, next_work) - time.monotonic()))


def watch_loop(
    agent: Agent, deadline: float, probe_channel: int, interval: float, run: str, seen: dict
) -> None:
    """An open inbox on the probe channel: note when each probe first shows in the list, then
    close it (as an agent would), so the view keeps room for the next ones."""
    if not agent.log_in():
        return
    htmx = {"HX-Request": "true"}
    view = f"view=unassigned&channel={probe_channel}"
    # Closing happens beside the watching, as a colleague would: waiting for each close under
    # load kept the watcher from polling (11 polls in 120 s).
    to_close: queue.Queue = queue.Queue()

    def closer() -> None:
        while True:
            shown = to_close.get()
            if shown is None:
                return
            agent.request(
                "watcher close",
                "POST",
                "/inbox/bulk/",
                headers=htmx,
                data={"action": "close", "ticket": shown},
            )

    closing = threading.Thread(target=closer)
    closing.start()
    row = re.compile(rf'data-id="(\d+)"(?:(?!data-id=).)*?probe-{run}-(\d+)-x', re.S)
    while time.monotonic() < deadline:
        started = time.monotonic()
        response = agent.request("watcher list poll", "GET", f"/inbox/list/?{view}", headers=htmx)
        if response is not None and response.status_code == 200:
            now = time.time()
            shown = []
            for ticket, n in row.findall(response.text):
                if int(n) not in seen:
                    seen[int(n)] = now
                    shown.append(ticket)
            if shown:
                to_close.put(shown)  # one bulk close, as an agent selecting the rows would
        time.sleep(max(0.0, interval - (time.monotonic() - started)))
    to_close.put(None)
    closing.join()


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--agents", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=120)
    parser.add_argument("--rate", type=int, default=1000, help="ingested messages a second")
    parser.add_argument("--web-workers", type=int, default=3)
    parser.add_argument("--watch-interval", type=float, default=1.0)
    parser.add_argument("--min-tickets", type=int, default=1_000_000)
    parser.add_argument("--ingest-child", nargs=5, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.ingest_child:
        rate, seconds, load_channel, probe_channel, run = args.ingest_child
        ingest_child(int(rate), float(seconds), int(load_channel), int(probe_channel), run)
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
    base = f"http://127.0.0.1:{port}"
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
    processes = [
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
    try:
        import requests

        for _ in range(300):  # until every worker has booted and the database answers
            try:
                if requests.get(f"{base}/healthz", timeout=2).status_code in (200, 503):
                    break
            except requests.RequestException:
                pass
            time.sleep(0.2)
        stats = Stats()
        agents = [Agent(base, f"load{n:02}", stats, random.Random(n)) for n in range(args.agents)]
        ready = threading.Barrier(args.agents + 1)
        deadline = time.monotonic() + 15 + args.seconds  # log-in time, then the run
        threads = [
            threading.Thread(target=agent_loop, args=(a, deadline, load_channel, ready))
            for a in agents
        ]
        for t in threads:
            t.start()
        ready.wait()
        deadline = time.monotonic() + args.seconds
        seen: dict[int, float] = {}
        run = secrets.token_hex(3)
        watcher = Agent(base, "load99", stats, random.Random(99))
        watch = threading.Thread(
            target=watch_loop,
            args=(watcher, deadline + 3, probe_channel, args.watch_interval, run, seen),
        )
        watch.start()
        ingest = subprocess.Popen(  # noqa: S603 - this script, as the ingest child
            [sys.executable, __file__, "--ingest-child", str(args.rate), str(args.seconds),
             str(load_channel), str(probe_channel), run],
            cwd=ROOT, env=os.environ.copy(), stdout=subprocess.PIPE, text=True,
        )  # fmt: skip
        committed: dict[int, float] = {}
        ingested = None
        for line in ingest.stdout:
            parts = line.split()
            if parts[0] == "probe":
                committed[int(parts[1])] = float(parts[2])
            elif parts[0] == "ingested":
                ingested = (int(parts[1]), float(parts[2]))
        ingest.wait()
        for t in threads:
            t.join()
        watch.join()
    finally:
        for p in processes:
            p.send_signal(signal.SIGTERM)
        for p in processes:
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                p.kill()

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
            probe_channel, run, [n for n in committed if n not in seen]
        ),
        "visible_s": {
            "p50": round(statistics.median(visible), 3) if visible else None,
            "p95": round(pct(visible, 0.95), 3) if visible else None,
            "p99": round(pct(visible, 0.99), 3) if visible else None,
            "watch_interval_s": args.watch_interval,
        },
        "endpoints": {},
    }
    print(f"\n{'endpoint':22} {'count':>7} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8}  statuses")
    for name in sorted(stats.times):
        times = stats.times[name]
        row = {
            "count": len(times),
            "p50_ms": round(statistics.median(times) * 1000, 1),
            "p95_ms": round(pct(times, 0.95) * 1000, 1),
            "p99_ms": round(pct(times, 0.99) * 1000, 1),
            "statuses": dict(stats.statuses[name]),
        }
        report["endpoints"][name] = row
        print(
            f"{name:22} {row['count']:7} {row['p50_ms']:8} {row['p95_ms']:8} {row['p99_ms']:8}"
            f"  {row['statuses']}"
        )
    errors = sum(
        n for r in report["endpoints"].values() for s, n in r["statuses"].items()
        if s.startswith("error") or s.startswith("5")
    )  # fmt: skip
    report["errors"] = errors
    print(
        f"\ningested {report['ingested']:,} messages at {report['ingest_per_s']:,}/s "
        f"(target {args.rate:,}/s); errors (5xx or no answer): {errors}"
    )
    print(
        f"ingest → visible (watcher polling every {args.watch_interval} s): "
        f"p50 {report['visible_s']['p50']} s, p95 {report['visible_s']['p95']} s, "
        f"p99 {report['visible_s']['p99']} s; probes {len(committed)}, never seen "
        f"{report['probes_never_seen']} (committed this many s before the last probe: "
        f"{report['never_seen_s_before_last_probe']}; of them claimed by an agent before the "
        f"watcher looked: {report['never_seen_claimed_by_an_agent']})"
    )
    out = ROOT / "var" / f"load-{dt.datetime.now(dt.UTC):%Y%m%d-%H%M}.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(report, indent=2))
    print(f"written to {out}")


if __name__ == "__main__":
    main()

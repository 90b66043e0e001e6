"""The agents of ``bench/load.py``: each a thread with its own session, working the inbox as
a person does through the page (log in, poll, switch views, search, open, claim, reply, tag,
close), and the watcher that measures when a probe ticket shows up in a list."""

from __future__ import annotations

import queue
import random
import re
import threading
import time
from collections import defaultdict

PASSWORD = "load-test-password-1"  # noqa: S105 - throw-away users of the load database
TICKET_LINK = re.compile(r'<tr id="row-\d+" class="row" data-id="(\d+)"')
STAMP = re.compile(r'stamp=([^"&]+)')
SEEN = re.compile(r'name="seen_message_id" value="(\d+)"')
MORE = re.compile(r'href="[^"]*[?&]after=([^"&]+)')


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

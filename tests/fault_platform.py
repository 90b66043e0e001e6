"""A fake platform on loopback, and the connector that talks to it, for fault-injection tests.

The platform serves numbered items and accepts posts, counting every post it receives by
idempotency key — the number that must never exceed one. It can be told to stall a fetch or a
post, so a test can kill a worker in the middle of one. The worker imports this module with
``celery worker --include tests.fault_platform`` to know the connector.
"""

from __future__ import annotations

import datetime as dt
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import requests

from channels.base import (
    Connector,
    FetchResult,
    InboundAuthor,
    InboundItem,
    OutcomeUnknown,
    SendResult,
    TemporaryError,
)
from channels.registry import register

START = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


class FakePlatform:
    def __init__(self, items: int = 100, per_second: float | None = None) -> None:
        self.items = items
        # With a rate, items appear over time like live traffic; without, all are there at once.
        self.per_second = per_second
        self.started = time.monotonic()
        self.posts: dict[str, list[str]] = {}  # idempotency key -> texts posted under it
        self.stall_fetch = 0.0
        self.stall_post = 0.0
        self.fetch_started = threading.Event()
        self.post_received = threading.Event()
        self.lock = threading.Lock()
        platform = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _json(self, body, status=200):
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self):
                url = urlsplit(self.path)
                query = {k: v[0] for k, v in parse_qs(url.query).items()}
                if url.path == "/items":
                    platform.fetch_started.set()
                    time.sleep(platform.stall_fetch)
                    since, limit = int(query.get("since", 0)), int(query.get("limit", 20))
                    ids = list(range(since, min(since + limit, platform.available())))
                    return self._json({"items": ids, "next": since + len(ids)})
                if url.path == "/posts":
                    with platform.lock:
                        found = platform.posts.get(query["key"], [])
                    return self._json({"posts": [f"post-{query['key']}"] if found else []})
                return self._json({}, 404)

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                with platform.lock:
                    platform.posts.setdefault(body["key"], []).append(body["text"])
                platform.post_received.set()
                time.sleep(platform.stall_post)
                return self._json({"id": f"post-{body['key']}"}, 201)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def available(self) -> int:
        if self.per_second is None:
            return self.items
        elapsed = time.monotonic() - self.started
        return min(self.items, int(elapsed * self.per_second))

    def post_counts(self) -> dict[str, int]:
        with self.lock:
            return {key: len(texts) for key, texts in self.posts.items()}

    def close(self) -> None:
        self.server.shutdown()


@register
class LoopbackConnector(Connector):
    kind = "test_loopback"
    reply_modes = ("public",)

    @property
    def base(self) -> str:
        return self.channel.settings["url"]

    def fetch(self, cursor):
        since = int(cursor.get("since", 0))
        try:
            response = requests.get(
                f"{self.base}/items", params={"since": since, "limit": 20}, timeout=30
            )
        except requests.RequestException as exc:
            raise TemporaryError(str(exc)) from exc
        body = response.json()
        items = [
            InboundItem(
                external_id=f"item-{n}",
                thread_key=f"thread-{n // 4}",
                kind="mention",
                text=f"message {n}",
                sent_at=START + dt.timedelta(seconds=n),
                author=InboundAuthor(platform_user_id=f"user-{n // 4}", handle=f"user{n // 4}"),
            )
            for n in body["items"]
        ]
        return FetchResult(items=items, cursor={"since": body["next"]}, more=bool(items))

    def send(self, reply):
        try:
            response = requests.post(
                f"{self.base}/posts",
                json={"key": reply.idempotency_key, "text": reply.text},
                timeout=30,
            )
        except requests.Timeout as exc:
            raise OutcomeUnknown(str(exc)) from exc
        except requests.RequestException as exc:
            raise TemporaryError(str(exc)) from exc
        return SendResult(external_id=response.json()["id"])

    def find_sent(self, reply):
        try:
            response = requests.get(
                f"{self.base}/posts", params={"key": reply.idempotency_key}, timeout=30
            )
        except requests.RequestException as exc:
            raise TemporaryError(str(exc)) from exc
        posts = response.json()["posts"]
        return SendResult(external_id=posts[0]) if posts else None


# A worker started with WEBCARE_TEST_SLOW_INGEST=<seconds> waits that long before each ingest,
# so a test can kill it after it claimed a webhook delivery and before anything is stored.
def _slow_ingest_when_asked(**kwargs) -> None:
    import os

    import inbox.ingest.services

    delay = float(os.environ.get("WEBCARE_TEST_SLOW_INGEST") or 0)
    real = inbox.ingest.services.ingest_batch
    if not delay or getattr(real, "slowed", False):
        return

    def slow(**kw):
        time.sleep(delay)
        return real(**kw)

    slow.slowed = True
    inbox.ingest.services.ingest_batch = slow


def _connect_slow_ingest() -> None:
    from celery.signals import task_prerun

    task_prerun.connect(_slow_ingest_when_asked, weak=False)


_connect_slow_ingest()

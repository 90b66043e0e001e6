"""WhatsApp send throughput: queued replies through the real delivery path to a local double of
the Cloud API that enforces 80 messages a second.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/webcare_whatsapp \
    REDIS_URL=redis://127.0.0.1:6379/15 python bench/whatsapp_send.py [--replies 10000]

Creates a throw-away test database, a WhatsApp channel, ``--replies`` queued replies spread over
customers, and runs ``--workers`` worker processes that each take a reply's task and call
``inbox.ingest.entry.reply_deliver`` (what the Celery send task runs: on WhatsApp a batch of the
channel's queued replies with that one first, ``inbox.replies.batch``), re-queueing it after the
countdown when delivery says "retry later", as the task does. ``--single`` calls
``inbox.replies.delivery.message_deliver`` instead: one reply per task, the path before batches.
The replies go through the connector's per-number rate counter (in the cache: Redis with
REDIS_URL) to an HTTP server on 127.0.0.1 that plays ``POST /{phone-number-id}/messages``: a
token bucket of 80 per second (burst 80) that answers Meta's 130429 error body when it is empty.
facebook-sdk is pointed at it through its module constant ``FACEBOOK_GRAPH_URL``.

Prints the sustained rate (replies confirmed per second from the first to the last), the
number of 130429 answers, and the checks: every reply sent, none posted twice.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import platform
import queue
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "webcare.settings")
os.environ.setdefault("DEBUG", "0")
os.environ.setdefault("SECRET_KEY", "bench-only-not-a-secret")  # noqa: S105
os.environ.setdefault("SECURE_SSL_REDIRECT", "0")

import django  # noqa: E402

django.setup()

import facebook  # noqa: E402
from django.db import connection, connections  # noqa: E402
from django.utils import timezone  # noqa: E402

PHONE_NUMBER_ID = "106540352242922"


class CloudAPIDouble:
    """``POST /<version>/<phone-number-id>/messages`` at ``rate`` per second, burst ``rate``."""

    def __init__(self, rate: int) -> None:
        self.rate = rate
        self.tokens = float(rate)
        self.at = time.monotonic()
        self.lock = threading.Lock()
        self.posted: collections.Counter[str] = collections.Counter()
        self.refused = 0
        self.accepted_at: list[float] = []

    def take(self) -> bool:
        with self.lock:
            now = time.monotonic()
            self.tokens = min(self.rate, self.tokens + (now - self.at) * self.rate)
            self.at = now
            if self.tokens >= 1:
                self.tokens -= 1
                return True
            self.refused += 1
            return False

    def handler(self):
        double = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):  # quiet
                pass

            def do_GET(self):  # noqa: N802 - http.server's name
                # The figures at the end of the run.
                with double.lock:
                    stamps = sorted(double.accepted_at)
                    figures = {
                        "stamps": stamps,
                        "posted": sum(double.posted.values()),
                        "twice": sum(1 for count in double.posted.values() if count > 1),
                        "refused": double.refused,
                    }
                return self.answer(200, figures)

            def do_POST(self):  # noqa: N802 - http.server's name
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                form = {k: v[0] for k, v in parse_qs(body.decode()).items()}
                if not self.path.endswith(f"/{PHONE_NUMBER_ID}/messages"):
                    return self.answer(404, {"error": {"message": "unknown path", "code": 100}})
                if not double.take():
                    return self.answer(
                        400,
                        {
                            "error": {
                                "message": "(#130429) Rate limit hit",
                                "type": "OAuthException",
                                "code": 130429,
                                "error_data": {
                                    "messaging_product": "whatsapp",
                                    "details": "Cloud API message throughput has been reached.",
                                },
                                "fbtrace_id": "bench",
                            }
                        },
                    )
                text = json.loads(form.get("text") or "{}").get("body", "")
                with double.lock:
                    double.posted[text] += 1
                    double.accepted_at.append(time.time())
                wamid = "wamid." + uuid.uuid4().hex
                return self.answer(
                    200,
                    {
                        "messaging_product": "whatsapp",
                        "contacts": [{"input": form.get("to"), "wa_id": form.get("to")}],
                        "messages": [{"id": wamid, "message_status": "accepted"}],
                    },
                )

            def answer(self, status: int, body: dict) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=UTF-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        return Handler


def setup(replies: int, customers: int, rate: int = 80):
    from channels.base import InboundAuthor, InboundItem
    from channels.services import channel_create
    from inbox.ingest.services import ingest_batch
    from inbox.models import DeliveryState, Direction, Message, Ticket

    channel = channel_create(
        kind="whatsapp",
        name="Bench WhatsApp",
        credentials={"access_token": "bench-token", "app_secret": "bench"},
        settings={"phone_number_id": PHONE_NUMBER_ID, "messages_per_second": rate},
    )
    now = timezone.now()
    for start in range(0, customers, 500):
        ingest_batch(
            channel_id=channel.pk,
            items=[
                InboundItem(
                    external_id=f"wamid.in{n}",
                    thread_key=f"wa:316{n:08d}",
                    kind="dm",
                    text="Waar blijft mijn pakket?",
                    sent_at=now,
                    author=InboundAuthor(platform_user_id=f"316{n:08d}", handle=f"+316{n:08d}"),
                )
                for n in range(start, min(customers, start + 500))
            ],
        )
    tickets = list(Ticket.objects.filter(channel=channel).values_list("pk", flat=True))
    rows = [
        Message(
            ticket_id=tickets[n % len(tickets)],
            channel_id=channel.pk,
            direction=Direction.OUTBOUND,
            text=f"Antwoord {n}",
            sent_at=now,
            reply_mode="dm",
            delivery_state=DeliveryState.QUEUED,
            delivery_changed_at=now,
            idempotency_key=uuid.uuid4().hex,
        )
        for n in range(replies)
    ]
    Message.objects.bulk_create(rows, batch_size=1000)
    return list(
        Message.objects.filter(channel_id=channel.pk, direction=Direction.OUTBOUND)
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def _worker(work, results, done_flag, connector_only: bool, single: bool = False) -> None:
    """One worker process, as a Celery worker runs the send task: take, deliver, retry later.

    ``connector_only``: call the connector's ``send`` (rate counter, Graph call) without the
    database work of a delivery, to measure the send path by itself."""
    from channels.base import OutboundReply, RateLimited
    from channels.models import Channel
    from inbox.ingest.entry import reply_deliver
    from inbox.replies.delivery import RetryLater, message_deliver

    connector = Channel.objects.get(kind="whatsapp").connector() if connector_only else None

    # A reply a batch put back in the queue gets a send task of its own (Celery's countdown):
    # here, a place in this queue.
    import inbox.replies.batch

    def dispatch(pk: int, countdown: int | None = None) -> None:
        work.put((time.time() + (countdown or 0), pk))

    inbox.replies.batch.dispatch_send = dispatch  # type: ignore[assignment]

    def deliver(pk: int) -> str:
        if connector is None:
            if single:
                return message_deliver(message_id=pk)
            # "batch of 80: sent 80" counts as "batch of 80"
            return reply_deliver(message_id=pk).split(":")[0]
        reply = OutboundReply(
            message_id=pk,
            idempotency_key=str(pk),
            text=f"Antwoord {pk}",
            mode="dm",
            thread_key=f"wa:316{pk % 2000:08d}",
            ticket_kind="dm",
        )
        try:
            connector.send(reply)
        except RateLimited as exc:
            raise RetryLater(exc.message, 1) from exc
        return "sent"

    outcomes: collections.Counter[str] = collections.Counter()
    try:
        while True:
            try:
                due, pk = work.get(timeout=0.5)
            except queue.Empty:
                if done_flag.is_set():
                    return
                continue
            wait = due - time.time()
            if wait > 0:
                time.sleep(wait)
            try:
                result = deliver(pk)
            except RetryLater as exc:
                outcomes["retry"] += 1
                work.put((time.time() + (exc.countdown or 1), pk))
                continue
            outcomes[result] += 1
            results.put(result)
    finally:
        results.put(("outcomes", dict(outcomes)))
        connections.close_all()


def run(ids: list[int], workers: int, connector_only: bool = False, single: bool = False) -> dict:
    import multiprocessing

    context = multiprocessing.get_context("fork")
    work = context.Queue()
    results = context.Queue()
    done_flag = context.Event()
    for pk in ids:
        work.put((0.0, pk))
    connections.close_all()  # each process opens its own
    processes = [
        context.Process(target=_worker, args=(work, results, done_flag, connector_only, single))
        for _ in range(workers)
    ]
    started = time.monotonic()
    for process in processes:
        process.start()
    finished = 0
    outcomes: collections.Counter[str] = collections.Counter()
    while finished < len(ids):
        try:
            result = results.get(timeout=5)
        except queue.Empty:
            if not any(process.is_alive() for process in processes):
                break  # every worker ended early (see its traceback): the checks below say how
            continue
        if isinstance(result, tuple):
            outcomes.update(result[1])
            continue
        finished += 1
    done_flag.set()
    for process in processes:
        process.join()
    while not results.empty():
        result = results.get()
        if isinstance(result, tuple):
            outcomes.update(result[1])
    return {"seconds": time.monotonic() - started, "outcomes": dict(outcomes)}


def serve_double(rate: int, port_out) -> None:
    """The Cloud API double in a process of its own, so it takes no CPU from the workers'."""
    double = CloudAPIDouble(rate)
    server = ThreadingHTTPServer(("127.0.0.1", 0), double.handler())
    port_out.put(server.server_port)
    server.serve_forever()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--replies", type=int, default=10_000)
    parser.add_argument("--customers", type=int, default=2_000)
    parser.add_argument("--workers", type=int, default=6)
    parser.add_argument(
        "--rate",
        type=int,
        default=80,
        help="messages a second the double takes and the number's setting allows (a rate above "
        "what delivery reaches measures delivery's own ceiling)",
    )
    parser.add_argument(
        "--connector-only",
        action="store_true",
        help="measure the send path alone (rate counter and Graph call), without delivery's "
        "database work",
    )
    parser.add_argument(
        "--single",
        action="store_true",
        help="one reply per task through message_deliver (the path before batched sends)",
    )
    args = parser.parse_args()

    import multiprocessing

    context = multiprocessing.get_context("fork")
    port_out = context.Queue()
    server = context.Process(target=serve_double, args=(args.rate, port_out), daemon=True)
    server.start()
    double_url = f"http://127.0.0.1:{port_out.get()}/"
    facebook.FACEBOOK_GRAPH_URL = double_url

    old_name = connection.settings_dict["NAME"]
    connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
    try:
        from django.core.cache import cache

        cache.clear()
        ids = setup(args.replies, args.customers, args.rate)
        print(f"{len(ids)} replies queued; {args.workers} workers; double at {args.rate}/s")
        result = run(ids, args.workers, args.connector_only, args.single)
        from inbox.models import DeliveryState, Message

        sent = Message.objects.filter(pk__in=ids, delivery_state=DeliveryState.SENT).count()
        if args.connector_only:
            sent = result["outcomes"].get("sent", 0)
        import requests

        figures = requests.get(double_url + "stats", timeout=30).json()
        stamps = figures["stamps"]
        span = stamps[-1] - stamps[0] if len(stamps) > 1 else 0.0
        # The steady part: from the 5th to the 95th percentile of accepted sends.
        lo, hi = stamps[len(stamps) // 20], stamps[len(stamps) * 19 // 20]
        steady = (len(stamps) * 0.9) / (hi - lo) if hi > lo else 0.0
        twice, posted = figures["twice"], figures["posted"]
        print(f"machine: {platform.node()} {platform.machine()} {os.cpu_count()} cpus")
        print(f"database: {connection.vendor}; cache: {cache.__class__.__name__}")
        print(f"wall time {result['seconds']:.1f}s; outcomes {result['outcomes']}")
        print(
            f"sustained rate: {(len(stamps) - 1) / span:.1f}/s first to last; steady {steady:.1f}/s"
        )
        print(f"130429 answers from the double: {figures['refused']}")
        print(
            f"sent {sent}/{len(ids)}; lost {len(ids) - sent}; posted {posted}; posted twice {twice}"
        )
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)
        if server.is_alive():
            server.terminate()


if __name__ == "__main__":
    main()

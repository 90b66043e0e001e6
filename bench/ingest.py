"""Ingest throughput: messages per second through the real ingest service.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/webcare python bench/ingest.py [--batches 40]

Creates a throw-away test database (test_<name>), stores ``--batches`` batches of 500 new
messages (realistic mix: about 3 messages a thread, 2 a customer, some edits and echoes), then
replays every batch (all duplicates), and prints per-batch medians. Runs on SQLite too.

``--raw-bytes N`` stores a platform payload of about N bytes per message, shaped like an X API v2
tweet (about 550 bytes is typical of X mentions, a few KB of comments with attachments); the
default is a tiny one, which measures ingest itself.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "webcare.settings")
# Measure what production runs: with DEBUG on, Django logs every statement, and with parameters
# bound on the server it renders each one as SQL text for the log, arrays of 500 values
# included (a quarter of a batch's time).
os.environ.setdefault("DEBUG", "0")
os.environ.setdefault("SECRET_KEY", "bench-only-not-a-secret")  # noqa: S105
os.environ.setdefault("SECURE_SSL_REDIRECT", "0")

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402
from django.utils import timezone  # noqa: E402

from channels.base import InboundAttachment, InboundAuthor, InboundItem  # noqa: E402
from channels.services import channel_create  # noqa: E402
from inbox.ingest.services import ingest_batch  # noqa: E402
from inbox.models import Message  # noqa: E402

BATCH = 500


def payload(seq: int, size: int) -> dict:
    """A raw payload shaped like an X API v2 tweet, padded to about ``size`` bytes."""
    if size <= 0:
        return {"id": str(seq), "lang": "nl"}
    tweet = {
        "id": str(1860000000000000000 + seq),
        "edit_history_tweet_ids": [str(1860000000000000000 + seq)],
        "text": f"@acme_care waar blijft bestelling {seq % 9999}? al 3 dagen niks gehoord",
        "author_id": str(2244994945 + seq // 2),
        "conversation_id": str(1860000000000000000 + seq - seq % 3),
        "created_at": "2026-11-20T09:15:02.000Z",
        "lang": "nl",
        "public_metrics": {"retweet_count": 0, "reply_count": 0, "like_count": seq % 7},
        "entities": {"mentions": [{"start": 0, "end": 10, "username": "acme_care"}]},
    }
    n = 0
    while len(json.dumps(tweet)) < size:
        tweet.setdefault("context_annotations", []).append(
            {"domain": {"id": str(n), "name": f"Brand {n}"}, "entity": {"id": str(seq + n)}}
        )
        n += 1
    return tweet


def make_batches(count: int, raw_bytes: int = 0, photos: int = 0) -> list[list[InboundItem]]:
    start = timezone.now() - dt.timedelta(days=1)
    batches = []
    for b in range(count):
        items = []
        for n in range(BATCH):
            seq = b * BATCH + n
            uid = f"u{seq // 2}"
            items.append(
                InboundItem(
                    external_id=f"m{seq}",
                    thread_key=f"t{seq // 3}",
                    kind="mention",
                    text=f"Message {seq}: waar blijft bestelling {seq % 9999}? 😡",
                    sent_at=start + dt.timedelta(seconds=seq),
                    language="nl",  # as X's "lang" gives it (channels.x.normalize)
                    author=InboundAuthor(
                        platform_user_id=uid,
                        handle=f"user{uid}",
                        display_name=f"User {uid}",
                        followers=seq % 5000,
                    ),
                    # Our own answer, echoed back, in a thread a customer opened earlier.
                    is_ours=seq % 3 == 2 and seq % 8 == 0,
                    raw=payload(seq, raw_bytes),
                    attachments=(
                        (
                            InboundAttachment(
                                kind="image",
                                url=f"https://pbs.twimg.com/media/F{seq}.jpg",
                                mime_type="image/jpeg",
                                external_id=f"3_{seq}",
                            ),
                        )
                        if photos and seq % photos == 0
                        else ()
                    ),
                )
            )
        batches.append(items)
    return batches


def run(batches: list[list[InboundItem]], channel_id: int) -> list[float]:
    rates = []
    for items in batches:
        t0 = time.perf_counter()
        ingest_batch(channel_id=channel_id, items=items, cursor={"since": items[-1].external_id})
        rates.append(len(items) / (time.perf_counter() - t0))
    return rates


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--batches", type=int, default=40)
    parser.add_argument("--raw-bytes", type=int, default=0)
    parser.add_argument(
        "--photos",
        type=int,
        default=0,
        help="one message in N carries a photo (stored at ingest; its fetch is queued on the "
        "configured broker, REDIS_URL, and purged after the run)",
    )
    parser.add_argument(
        "--core",
        action="store_true",
        help="measure the store alone, without the team-lead engines (intent, routing, SLA, "
        "priority, auto-acknowledgement) that run inside every ingest",
    )
    args = parser.parse_args()
    if args.core:
        from inbox.ingest.services import tickets_ingesting

        tickets_ingesting.disconnect(dispatch_uid="inbox.engines")
    old_name = connection.settings_dict["NAME"]
    connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
    try:
        channel = channel_create(kind="simulator", name="bench")
        batches = make_batches(args.batches, args.raw_bytes, args.photos)
        new = run(batches, channel.pk)
        stored = Message.objects.filter(channel=channel).count()
        replay = run(batches, channel.pk)
        after = Message.objects.filter(channel=channel).count()
        with connection.cursor() as cursor:
            server = connection.vendor
            if server == "postgresql":
                cursor.execute("SHOW server_version")
                server += " " + cursor.fetchone()[0].split()[0]
        print(
            f"machine: {platform.node()} {platform.machine()}, {os.cpu_count()} cores, "
            f"Python {platform.python_version()}, {server}"
        )
        print(f"date: {dt.datetime.now(dt.UTC).date().isoformat()}")
        raw = f", raw ~{args.raw_bytes} bytes" if args.raw_bytes else ""
        raw += f", a photo on 1 in {args.photos}" if args.photos else ""
        print(f"batches: {args.batches} x {BATCH} = {args.batches * BATCH} messages{raw}")
        print(
            f"new:    median {statistics.median(new):,.0f} msg/s "
            f"(min {min(new):,.0f}, max {max(new):,.0f})"
        )
        print(
            f"replay: median {statistics.median(replay):,.0f} msg/s "
            f"(min {min(replay):,.0f}, max {max(replay):,.0f})"
        )
        print(f"stored {stored} messages; after replay {after}; duplicates {after - stored}")
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)
        if args.photos:
            from webcare.celery import app

            app.control.purge()  # the fetches queued for photos that never existed


if __name__ == "__main__":
    main()

"""Media fetch throughput and memory: attachments fetched per second by one worker, and how much
a worker's resident memory grows while it downloads.

    python bench/media.py [--count 1000]        (DATABASE_URL for PostgreSQL; SQLite otherwise)

A local HTTP server thread on 127.0.0.1 plays the platform's CDN (tests/media_cdn.py). First the
memory phase: the worker fetches a 500 MB file (sent without a length, refused at the 25 MB cap
while streaming) and a 20 MB one, and the peak resident memory (VmHWM, reset before the phase
through /proc/self/clear_refs) is compared with the resident memory before. Then ``--count``
attachments of mixed sizes (photos of 0.1–2 MB with thumbnails, files and videos up to 20 MB)
are stored by ingest and fetched one after the other through the real service, as one Celery
worker process runs them. Files go to a throw-away media folder.
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import os
import platform
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "webcare.settings")
os.environ.setdefault("DEBUG", "0")
os.environ.setdefault("SECRET_KEY", "bench-only-not-a-secret")  # noqa: S105
os.environ.setdefault("SECURE_SSL_REDIRECT", "0")

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402
from django.test.utils import override_settings  # noqa: E402
from django.utils import timezone  # noqa: E402
from PIL import Image  # noqa: E402

from channels.base import InboundAttachment, InboundAuthor, InboundItem  # noqa: E402
from channels.services import channel_create  # noqa: E402
from inbox.ingest.services import ingest_batch  # noqa: E402
from inbox.media import ingest as media_ingest  # noqa: E402
from inbox.media.services import attachment_fetch  # noqa: E402
from inbox.models import Attachment  # noqa: E402
from tests.media_cdn import CDN, Route, zeros  # noqa: E402

MB = 1024 * 1024


def rss_kb(field: str = "VmRSS") -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def reset_peak() -> None:
    Path("/proc/self/clear_refs").write_text("5")


def photo(size: int, seed: int) -> bytes:
    """A JPEG of about ``size`` bytes (noise compresses badly, so its size follows its area)."""
    rng = random.Random(seed)
    side = 64
    while True:
        image = Image.frombytes("RGB", (side, side), rng.randbytes(side * side * 3))
        out = io.BytesIO()
        image.save(out, "JPEG", quality=90)
        if out.tell() >= size or side > 4000:
            return out.getvalue()
        side = int(side * 1.4)


def mp4(size: int) -> bytes:
    head = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom"
    return head + bytes(size - len(head))


def items_with(urls: list[tuple[str, str]], prefix: str) -> list[InboundItem]:
    now = timezone.now()
    return [
        InboundItem(
            external_id=f"{prefix}{n}",
            thread_key=f"{prefix}t{n // 4}",
            kind="dm",
            text="",
            sent_at=now - dt.timedelta(seconds=len(urls) - n),
            author=InboundAuthor(platform_user_id=f"u{n // 4}"),
            attachments=(InboundAttachment(kind=kind, url=url),),
        )
        for n, (kind, url) in enumerate(urls)
    ]


def store(channel_id: int, urls: list[tuple[str, str]], prefix: str) -> list[int]:
    items = items_with(urls, prefix)
    for start in range(0, len(items), 500):
        ingest_batch(channel_id=channel_id, items=items[start : start + 500])
    return list(
        Attachment.objects.filter(message__external_id__startswith=prefix)
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=1000)
    args = parser.parse_args()
    media_ingest._queue = lambda ids: None  # the bench runs the fetches itself, in order
    old_name = connection.settings_dict["NAME"]
    connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
    folder = tempfile.mkdtemp(prefix="webcare-media-bench-")
    try:
        with (
            CDN() as cdn,
            override_settings(
                SAFE_FETCH_LOCAL_HOSTS=(cdn.host,),
                MEDIA_MAX_BYTES=25 * MB,
                STORAGES={
                    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
                    "media": {
                        "BACKEND": "django.core.files.storage.FileSystemStorage",
                        "OPTIONS": {"location": folder},
                    },
                    "staticfiles": {
                        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
                    },
                },
            ),
        ):
            channel = channel_create(kind="simulator", name="media bench")
            # --- memory: a 500 MB file refused at the cap, then a 20 MB one stored --------
            cdn.routes["/big.mp4"] = Route(
                content_type="video/mp4", body=zeros(500 * MB), length=False
            )
            cdn.routes["/twenty.mp4"] = Route(content_type="video/mp4", body=mp4(20 * MB))
            ids = store(
                channel.pk,
                [("video", cdn.url("/big.mp4")), ("video", cdn.url("/twenty.mp4"))],
                "mem",
            )
            before = rss_kb()
            reset_peak()
            for pk in ids:
                attachment_fetch(attachment_id=pk)
            peak = rss_kb("VmHWM")
            states = list(
                Attachment.objects.filter(pk__in=ids).order_by("pk").values_list("state", "reason")
            )
            sent_big = cdn.sent.get("/big.mp4", 0)
            # --- throughput ---------------------------------------------------------------
            rng = random.Random(7)
            bodies = {
                "p1": ("image", "image/jpeg", photo(100_000, 1)),
                "p2": ("image", "image/jpeg", photo(400_000, 2)),
                "p3": ("image", "image/jpeg", photo(2 * MB, 3)),
                "f1": ("file", "application/pdf", b"%PDF-1.7\n" + bytes(1 * MB)),
                "v1": ("video", "video/mp4", mp4(5 * MB)),
                "v2": ("video", "video/mp4", mp4(20 * MB)),
            }
            for key, (_kind, mime, body) in bodies.items():
                cdn.routes[f"/{key}"] = Route(content_type=mime, body=body)
            mix = ["p1"] * 50 + ["p2"] * 25 + ["p3"] * 10 + ["f1"] * 8 + ["v1"] * 5 + ["v2"] * 2
            urls = []
            for _ in range(args.count):
                key = rng.choice(mix)
                urls.append((bodies[key][0], cdn.url(f"/{key}")))
            total_bytes = sum(len(bodies[k.rsplit("/", 1)[1]][2]) for _, k in urls)
            ids = store(channel.pk, urls, "tp")
            t0 = time.perf_counter()
            for pk in ids:
                attachment_fetch(attachment_id=pk)
            elapsed = time.perf_counter() - t0
            stored = Attachment.objects.filter(pk__in=ids, state="stored").count()
        print(
            f"machine: {platform.node()} {platform.machine()}, {os.cpu_count()} cores, "
            f"Python {platform.python_version()}, {connection.vendor}"
        )
        print(f"date: {dt.datetime.now(dt.UTC).date().isoformat()}")
        print(
            f"memory: RSS before {before / 1024:.1f} MB, peak {peak / 1024:.1f} MB, growth "
            f"{(peak - before) / 1024:.1f} MB (limit 50 MB)"
        )
        print(f"  500 MB file: {states[0][0]} ({states[0][1]}); server sent {sent_big / MB:.1f} MB")
        print(f"  20 MB file: {states[1][0]}")
        print(
            f"throughput: {stored}/{len(ids)} stored, {total_bytes / MB:,.0f} MB in "
            f"{elapsed:.1f} s: {len(ids) / elapsed:.1f} attachments/s, "
            f"{total_bytes / MB / elapsed:.0f} MB/s, one worker"
        )
    finally:
        shutil.rmtree(folder, ignore_errors=True)
        connection.creation.destroy_test_db(old_name, verbosity=0)


if __name__ == "__main__":
    main()

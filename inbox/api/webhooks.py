"""Outbound webhooks: events written to an outbox in the change's transaction, delivered signed.

- **Nothing lost, nothing for a rollback.** :func:`event_emit` writes one ``OutboundDelivery``
  row per matching subscription inside the caller's transaction (the activity row's), and asks
  for a delivery run with ``transaction.on_commit``. A worker killed mid-run leaves the rows
  pending; the next run (or the ``webhooks_deliver`` command / beat sweep) sends them.
- **Ordered per ticket.** A delivery is attempted only when it is the oldest pending row of its
  (subscription, ticket); a retrying one holds back the later ones of that ticket, not others.
- **Retried** with exponential backoff (``BACKOFF_BASE`` doubling, at most ``BACKOFF_MAX``) until
  ``GIVE_UP_AFTER`` (24 hours) after the event; ``DISABLE_AFTER`` failures in a row disable the
  subscription and tell the admins (an activity row shown in the audit log and on the page).
- **Signed**: ``Webcare-Signature: t=<unix>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>``.
- **No SSRF**: the host must resolve only to public addresses (the same check as the avatar
  and media fetches, ``webcare.safe_http``), unless ``WEBHOOKS_ALLOW_PRIVATE`` is set; the
  connection goes to the checked address.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import requests
from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from inbox.core import bulk
from inbox.events import services as events
from inbox.models import DeliveryStatus, OutboundDelivery, WebhookSubscription
from webcare.signed_http import Refused, _session, signature_header, target

log = logging.getLogger(__name__)

BACKOFF_BASE = 10  # seconds before the first retry; doubled each time
BACKOFF_MAX = 60 * 60
GIVE_UP_AFTER = dt.timedelta(hours=24)
DISABLE_AFTER = 50  # failed attempts in a row
TIMEOUT = (3.0, 10.0)
BATCH = 200


def post(
    sub: WebhookSubscription, delivery: OutboundDelivery, targets: dict | None = None
) -> tuple[int | None, str, int]:
    """(status code or None, error, milliseconds) of one attempt; ``targets`` keeps each URL's
    checked address for the rest of a batch (resolved once per batch, not per delivery)."""
    body = delivery.body.encode()
    started = time.monotonic()
    try:
        if targets is not None and sub.url in targets:
            url, extra = targets[sub.url]
        else:
            url, extra = target(sub.url)
        extra = dict(extra)
        pin = extra.pop("__pin__", None)
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "Webcare-Webhooks/1",
            "Webcare-Event": delivery.event,
            "Webcare-Delivery": str(delivery.pk),
            "Webcare-Signature": signature_header(sub.secret, body),
            **extra,
        }
        # A session per thread: the batch's posts run side by side (``_post_all``).
        session = _session(f"{sub.pk}:{url}:{threading.get_ident()}", pin)
        response = session.post(
            url, data=body, headers=headers, timeout=TIMEOUT, allow_redirects=False
        )
        code, error = response.status_code, ""
    except Refused as exc:
        code, error = None, f"refused: {exc}"
    except requests.RequestException as exc:
        code, error = None, type(exc).__name__
    return code, error[:300], int((time.monotonic() - started) * 1000)


# --- delivery ---------------------------------------------------------------------------------
def _heads(now: dt.datetime, limit: int) -> list[int]:
    """Ids of due deliveries that are the oldest pending one of their (subscription, ticket):
    the first ``limit`` due rows by id, less those with an older pending row of their ticket
    (a retry waiting, or one earlier in this batch). Two indexed statements; an anti-join over
    the whole outbox took seconds at a few thousand pending rows."""
    from django.db.models import Min

    pending = OutboundDelivery.objects.filter(status=DeliveryStatus.PENDING)
    due = pending.filter(next_attempt_at__lte=now, subscription__enabled=True)
    # Tickets whose oldest delivery waits for a retry: their later rows must not fill the batch
    # (they could not go anyway, and would starve every other ticket behind them).
    waiting = pending.filter(next_attempt_at__gt=now, ticket_id__isnull=False)
    blocked = set(waiting.values_list("ticket_id", flat=True).distinct()[:10_000])
    if blocked:
        due = due.exclude(ticket_id__in=blocked)
    rows = list(due.order_by("pk").values_list("pk", "subscription_id", "ticket_id")[:limit])
    tickets = {ticket for _, _, ticket in rows if ticket is not None}
    first = {
        (row["subscription_id"], row["ticket_id"]): row["first"]
        for row in OutboundDelivery.objects.filter(
            status=DeliveryStatus.PENDING, ticket_id__in=tickets
        )
        .values("subscription_id", "ticket_id")
        .annotate(first=Min("pk"))
        .order_by()
    }
    return [pk for pk, sub, ticket in rows if ticket is None or first.get((sub, ticket)) == pk]


def _lease() -> dt.timedelta:
    return dt.timedelta(seconds=int(getattr(settings, "WEBHOOKS_LEASE_SECONDS", 60)))


def _claim(ids: list[int], now: dt.datetime) -> list[OutboundDelivery]:
    """Take ``ids`` for this worker: rows no other worker holds (SKIP LOCKED) get a lease (their
    next attempt moves to now + lease), committed at once so the lock is not held while
    posting. A worker killed before recording leaves them to be sent again when the lease ends
    (at least once; the receiver deduplicates on ``Webcare-Delivery``)."""
    with transaction.atomic():
        rows = list(
            OutboundDelivery.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("subscription")
            .filter(pk__in=ids, status=DeliveryStatus.PENDING, next_attempt_at__lte=now)
            .order_by("pk")
        )
        if rows:
            OutboundDelivery.objects.filter(pk__in=[d.pk for d in rows]).update(
                next_attempt_at=now + _lease()
            )
    return rows


def _send_batch(ids: list[int], now: dt.datetime) -> int:
    """Claim, post and record a batch: three short transactions for the whole batch, not one per
    delivery (a commit per delivery capped a worker near 30 a second)."""
    rows = _claim(ids, now)
    if not rows:
        return 0
    failed: dict[int, WebhookSubscription] = {}
    succeeded: set[int] = set()
    for delivery, (code, error, ms, done) in zip(rows, _post_all(rows), strict=True):
        delivery.attempts += 1
        delivery.response_code, delivery.duration_ms, delivery.error = code, ms, error
        if code is not None and 200 <= code < 300:
            delivery.status, delivery.delivered_at = DeliveryStatus.DELIVERED, done
            delivery.next_attempt_at = done
            succeeded.add(delivery.subscription_id)
        else:
            wait = min(BACKOFF_BASE * 2 ** (delivery.attempts - 1), BACKOFF_MAX)
            delivery.next_attempt_at = done + dt.timedelta(seconds=wait)
            if done - delivery.created_at > GIVE_UP_AFTER:
                delivery.status = DeliveryStatus.DEAD
            failed[delivery.pk] = delivery.subscription
    with transaction.atomic():
        # One set-based UPDATE (the ingest's): Django's bulk_update builds a CASE per field per
        # row and was half a batch's time.
        fields = (
            "status", "attempts", "response_code", "duration_ms", "error", "next_attempt_at",
            "delivered_at",
        )  # fmt: skip
        bulk.update_rows(
            OutboundDelivery,
            [d.pk for d in rows],
            {name: [getattr(d, name) for d in rows] for name in fields},
        )
        ok_subs = succeeded - {sub.pk for sub in failed.values()}
        if ok_subs:
            WebhookSubscription.objects.filter(pk__in=ok_subs, failures__gt=0).update(failures=0)
        for sub in failed.values():
            _failed(sub)
    return len(rows)


def _post_all(rows: list[OutboundDelivery]) -> list[tuple[int | None, str, int, dt.datetime]]:
    """Each row's (code, error, milliseconds, finished at), posted ``WEBHOOKS_CONCURRENCY`` at a
    time: a batch holds at most one delivery per (subscription, ticket) (``_heads``), so posting
    them side by side keeps every ticket's order, and a worker waits on its slowest receivers
    side by side instead of one after another."""
    targets: dict = {}
    for delivery in rows:  # resolved and checked once per URL, before the threads share them
        url = delivery.subscription.url
        if url not in targets:
            with contextlib.suppress(Refused):  # post() records it for each of its deliveries
                targets[url] = target(url)

    def one(delivery: OutboundDelivery) -> tuple[int | None, str, int, dt.datetime]:
        code, error, ms = post(delivery.subscription, delivery, targets)
        return code, error, ms, timezone.now()

    workers = int(getattr(settings, "WEBHOOKS_CONCURRENCY", 8))
    if workers <= 1 or len(rows) <= 1:
        return [one(d) for d in rows]
    return list(_pool(workers).map(one, rows))


_pools: dict[int, ThreadPoolExecutor] = {}


def _pool(workers: int) -> ThreadPoolExecutor:
    if workers not in _pools:
        _pools[workers] = ThreadPoolExecutor(workers, thread_name_prefix="webhooks")
    return _pools[workers]


def _failed(sub: WebhookSubscription) -> None:
    from inbox.audit.services import activity_log

    WebhookSubscription.objects.filter(pk=sub.pk).update(failures=F("failures") + 1)
    sub.refresh_from_db(fields=["failures", "enabled"])
    if sub.enabled and sub.failures >= DISABLE_AFTER:
        reason = f"disabled after {sub.failures} failed deliveries in a row"
        WebhookSubscription.objects.filter(pk=sub.pk).update(enabled=False, disabled_reason=reason)
        events.subscriptions_changed()
        # The notice: in the audit log, and on the admins' webhook page.
        activity_log(
            ticket=None,
            actor=None,
            verb="webhook_disabled",
            after={"webhook": sub.pk, "url": sub.url, "reason": reason},
        )


def deliver_due(*, limit: int = BATCH, now: dt.datetime | None = None) -> int:
    """One pass over the due deliveries; returns how many were attempted."""
    done = 0
    while done < limit:
        at = now or timezone.now()
        ids = _heads(at, min(BATCH, limit - done))
        if not ids:
            break
        done += _send_batch(ids, at)
        if now is not None:
            break
    return done


def send_again(*, delivery_id: int) -> OutboundDelivery:
    """An admin's "send again": a new pending copy of a delivery, at the end of its queue."""
    old = OutboundDelivery.objects.get(pk=delivery_id)
    copy = OutboundDelivery.objects.create(
        subscription_id=old.subscription_id, event=old.event, ticket_id=old.ticket_id, body=old.body
    )
    transaction.on_commit(events._kick)
    return copy

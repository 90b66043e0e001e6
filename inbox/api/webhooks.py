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

import datetime as dt
import hashlib
import hmac
import json
import logging
import time
from urllib.parse import urlsplit, urlunsplit

import requests
from django.conf import settings
from django.core.cache import cache
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from inbox.ingest import bulk
from inbox.models import (
    Activity,
    DeliveryStatus,
    OutboundDelivery,
    WebhookSubscription,
)
from webcare import safe_http

log = logging.getLogger(__name__)

BACKOFF_BASE = 10  # seconds before the first retry; doubled each time
BACKOFF_MAX = 60 * 60
GIVE_UP_AFTER = dt.timedelta(hours=24)
DISABLE_AFTER = 50  # failed attempts in a row
TIMEOUT = (3.0, 10.0)
BATCH = 200

# Activity verbs that are webhook events (written by the one writer, activity_log).
VERB_EVENTS = {
    "claimed": "ticket.assigned",
    "assigned": "ticket.assigned",
    "closed": "ticket.closed",
    "reply_sent": "reply.sent",
    "reply_failed": "reply.failed",
    "incident_resolved": "incident.resolved",
    "sla_breached": "sla.breached",
}


SUBSCRIPTIONS_KEY = "webhooks:subscriptions"


def subscriptions_changed() -> None:
    """Forget the cached subscriptions (every writer of a subscription calls this)."""
    cache.delete(SUBSCRIPTIONS_KEY)


def _subscriptions_for(event: str) -> list[tuple[int, list[str]]]:
    """(id, events) of the enabled subscriptions to ``event``. Read from the shared cache: every
    state change asks, and most installations have no subscription at all, so the question costs
    no statement. A JSON "contains" is not portable to SQLite; subscriptions are few."""
    subs = cache.get(SUBSCRIPTIONS_KEY)
    if subs is None:
        subs = list(WebhookSubscription.objects.filter(enabled=True).values_list("pk", "events"))
        cache.set(SUBSCRIPTIONS_KEY, subs, 300)
    return [(pk, events) for pk, events in subs if event in events]


def event_emit(*, event: str, ticket_id: int | None, data: dict) -> int:
    """Queue ``event`` for every subscription to it, in the caller's transaction."""
    subs = _subscriptions_for(event)
    if not subs:
        return 0
    now = timezone.now()
    rows = []
    for sub_id, _events in subs:
        body = json.dumps(
            {"event": event, "ticket_id": ticket_id, "occurred_at": now, "data": data},
            cls=DjangoJSONEncoder,
            separators=(",", ":"),
        )
        rows.append(
            OutboundDelivery(
                subscription_id=sub_id, event=event, ticket_id=ticket_id, body=body, created_at=now
            )
        )
    OutboundDelivery.objects.bulk_create(rows)
    transaction.on_commit(_kick)
    return len(rows)


def ingest_events(*, created_ticket_ids, messages) -> None:
    """ticket.created and message.received for a stored batch (in ingest's transaction)."""
    if not (_subscriptions_for("ticket.created") or _subscriptions_for("message.received")):
        return
    for ticket_id in sorted(created_ticket_ids):
        event_emit(event="ticket.created", ticket_id=ticket_id, data={})
    for m in messages:
        if m.direction == "in" and m.id is not None:
            data = {"message_id": m.id, "channel_id": m.channel_id, "text": m.text}
            event_emit(event="message.received", ticket_id=m.ticket_id, data=data)


def activity_event(activity: Activity) -> None:
    """The webhook event of an activity row, if its verb is one."""
    event = VERB_EVENTS.get(activity.verb)
    if event is None:
        return
    data = {"verb": activity.verb, "actor_id": activity.actor_id, **(activity.after or {})}
    event_emit(event=event, ticket_id=activity.ticket_id, data=data)


def _kick() -> None:
    from inbox.tasks import webhooks_deliver

    try:
        webhooks_deliver.delay()
    except Exception:  # broker down: the beat sweep delivers them later
        log.warning("webhooks: could not queue a delivery run", exc_info=True)


# --- signing ----------------------------------------------------------------------------------
def signature(secret: str, timestamp: int, body: bytes) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return mac.hexdigest()


def signature_header(secret: str, body: bytes, now: float | None = None) -> str:
    t = int(now if now is not None else time.time())
    return f"t={t},v1={signature(secret, t, body)}"


def signature_valid(secret: str, header: str, body: bytes, tolerance: int = 300) -> bool:
    parts = dict(p.split("=", 1) for p in header.split(",") if "=" in p)
    try:
        t = int(parts.get("t", ""))
    except ValueError:
        return False
    if abs(time.time() - t) > tolerance:
        return False
    return hmac.compare_digest(signature(secret, t, body), parts.get("v1", ""))


# --- where we may connect ---------------------------------------------------------------------
class Refused(Exception):
    pass


def target(url: str) -> tuple[str, dict]:
    """(URL to request, extra headers): the host resolved and checked, the connection pinned to
    the checked address (http) or through the avatar fetch's pinned adapter (https)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise Refused("not an http(s) URL")
    if parts.username is not None or parts.password is not None:
        raise Refused("credentials in the URL")
    try:
        addresses = safe_http._addresses(parts.hostname)
    except safe_http.Refused as exc:
        raise Refused(str(exc)) from exc
    allow_private = getattr(settings, "WEBHOOKS_ALLOW_PRIVATE", False)
    if not addresses or not (allow_private or all(safe_http._public(a) for a in addresses)):
        raise Refused(f"{parts.hostname} resolves to a non-public address")
    if parts.scheme == "https":
        return url, {"__pin__": addresses[0]}
    address = addresses[0]
    host = f"[{address}]" if ":" in address else address
    netloc = f"{host}:{parts.port}" if parts.port else host
    return urlunsplit(parts._replace(netloc=netloc)), {"Host": parts.netloc}


_sessions: dict[str, requests.Session] = {}


def _session(key: str, pin: str | None) -> requests.Session:
    """One keep-alive session per target, so a burst reuses its connection."""
    session = _sessions.get(key)
    if session is None:
        session = requests.Session()
        session.trust_env = False
        if pin:
            session.mount("https://", safe_http._PinnedAdapter(pin))
        _sessions[key] = session
    return session


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
            if targets is not None:
                targets[sub.url] = (url, extra)
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
        response = _session(f"{sub.pk}:{url}", pin).post(
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
    targets: dict = {}
    for delivery in rows:
        code, error, ms = post(delivery.subscription, delivery, targets)
        done = timezone.now()
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


def _failed(sub: WebhookSubscription) -> None:
    from inbox.audit.services import activity_log

    WebhookSubscription.objects.filter(pk=sub.pk).update(failures=F("failures") + 1)
    sub.refresh_from_db(fields=["failures", "enabled"])
    if sub.enabled and sub.failures >= DISABLE_AFTER:
        reason = f"disabled after {sub.failures} failed deliveries in a row"
        WebhookSubscription.objects.filter(pk=sub.pk).update(enabled=False, disabled_reason=reason)
        subscriptions_changed()
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
    transaction.on_commit(_kick)
    return copy

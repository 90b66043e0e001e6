"""The one path every platform webhook takes: verify, store, answer, then ingest.

``/webhooks/<kind>/`` looks up the connector class of ``kind``; its ``webhook`` attribute (a
:class:`WebhookIntake`) supplies what is platform-specific — the GET handshake, the signature
check over the raw bytes, which channels a body is for, and "body → items per channel, stored".
Everything else is here and the same for every platform:

1. **Size first.** A body longer than ``WEBHOOK_MAX_BODY_BYTES`` is refused with 413, and no
   more than that many bytes are ever read.
2. **Verify before parse.** The connector checks the signature on the raw bytes; nothing is
   parsed for an unsigned body. Only then is the body parsed, by :func:`parse_json`, which turns
   every malformed or hostile body (bad UTF-8, not an object, nested deep enough to exhaust the
   parser) into a 400. No unauthenticated request can cause a 5xx.
3. **Store before the 200.** The verified body becomes a :class:`WebhookDelivery` row (committed:
   the view runs outside any request transaction) before the platform gets its answer. The same
   bytes delivered again hit the unique ``(kind, sha256)`` and are answered 200 without a second
   row — that is the replay guard.
4. **Ingest in a task, processed only after it commits.** :func:`process_delivery` claims the
   row with one conditional UPDATE (a lease), runs the connector's ``process`` (which stores
   through ``inbox.ingest.services`` in its own transactions), and marks the row processed only
   after it
   returned. A failure leaves it waiting with exponential backoff; a worker killed mid-way or a
   task lost with the broker leaves it waiting too, and :func:`sweep` queues it again. Running a
   delivery twice stores nothing twice: ingest dedupes on ``(channel, external_id)``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from .models import DeliveryState, WebhookDelivery

log = logging.getLogger(__name__)


class Refused(Exception):
    """A request the intake answers with a 4xx and stores nothing for."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason

    def response(self) -> HttpResponse:
        return HttpResponse(self.reason, status=self.status, content_type="text/plain")


class WebhookIntake:
    """What a connector plugs into ``/webhooks/<kind>/``. Subclass per platform app.

    ``name`` is the delivery namespace: deliveries are deduplicated per name, so two URLs of one
    platform app (Meta's ``/webhooks/facebook/`` and ``/webhooks/messenger/``) share one.
    """

    name: str = ""

    def handshake(self, request: HttpRequest) -> HttpResponse:
        """Answer the platform's GET (ownership check). Default: no GET on this URL."""
        return HttpResponse(status=405, headers={"Allow": "POST"})

    def verify(self, request: HttpRequest, body: bytes) -> Any:
        """Check the signature over the raw ``body``; never parse it here.

        Return something truthy (handed to :meth:`route`) when the body is authentic; return a
        falsy value or raise :class:`Refused` otherwise (403 by default)."""
        raise NotImplementedError

    def route(self, payload: dict[str, Any], verified: Any) -> list[int]:
        """The ids of the channels a verified, parsed body is for ([] when none is known).

        Raise :class:`Refused` to refuse it, or :class:`Ignored` to answer 200 without storing
        (a signed body that is nothing for us)."""
        raise NotImplementedError

    def items(self, payload: dict[str, Any], *, channel_ids: list[int]) -> dict[int, list]:
        """Body → ``InboundItem`` lists per channel id, through the platform's normaliser."""
        raise NotImplementedError

    def process(self, payload: dict[str, Any], *, channel_ids: list[int]) -> str:
        """Store what the body holds. Raise to be retried.

        May run more than once for one delivery (a retry after a crash): ingest's dedupe makes
        that harmless. The default stores :meth:`items` per channel; a platform whose bodies
        hold more than messages (Meta's moderation changes) overrides this instead."""
        from inbox.ingest.services import ingest_batch

        stored = 0
        for channel_id, items in self.items(payload, channel_ids=channel_ids).items():
            if items:
                stored += ingest_batch(channel_id=channel_id, items=items).created
        return f"stored {stored}"

    def acknowledge(self, *, replay: bool) -> HttpResponse:
        """The 200 the platform gets once the delivery is stored (or was stored before)."""
        return HttpResponse("EVENT_RECEIVED", content_type="text/plain")


class Ignored(Exception):
    """A signed body that holds nothing for us: answered 200, not stored."""

    def __init__(self, reason: str = "ignored") -> None:
        super().__init__(reason)
        self.reason = reason


# --- receipt ----------------------------------------------------------------------------------
def read_body(request: HttpRequest) -> bytes:
    """The raw body, never more than ``WEBHOOK_MAX_BODY_BYTES`` read (413 above it)."""
    limit = settings.WEBHOOK_MAX_BODY_BYTES
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        raise Refused(400, "bad Content-Length") from None
    if declared > limit:
        raise Refused(413, "body too large")
    body = request.read(limit + 1)
    if len(body) > limit:
        raise Refused(413, "body too large")
    return body


def parse_json(body: bytes) -> dict[str, Any]:
    """Parse a verified body; anything but a JSON object is a 400.

    ``RecursionError`` is caught on purpose: a validly signed but deeply nested body would
    otherwise exhaust the parser and answer 500."""
    try:
        payload = json.loads(body.decode("utf-8"))
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise Refused(400, "malformed body") from None
    if not isinstance(payload, dict):
        raise Refused(400, "malformed body")
    return payload


def receive(request: HttpRequest, intake: WebhookIntake) -> HttpResponse:
    if request.method == "GET":
        return intake.handshake(request)
    if request.method != "POST":
        return HttpResponse(status=405, headers={"Allow": "GET, POST"})
    try:
        body = read_body(request)
        if not body:
            raise Refused(400, "empty body")
        verified = intake.verify(request, body)
        if not verified:
            raise Refused(403, "bad signature")
        payload = parse_json(body)
        channel_ids = intake.route(payload, verified)
    except Refused as refusal:
        # A 413 may be a genuine delivery bigger than the cap (Meta batches up to 1,000
        # updates): loud, so an admin raises WEBHOOK_MAX_BODY_BYTES before the platform gives up.
        level = logging.ERROR if refusal.status == 413 else logging.WARNING
        log.log(level, "webhook %s refused: %s (%s)", intake.name, refusal.reason, refusal.status)
        return refusal.response()
    except Ignored as ignored:
        return HttpResponse(ignored.reason, content_type="text/plain")
    delivery, created = store(kind=intake.name, body=body, channel_ids=channel_ids)
    if created:
        dispatch(delivery.pk)
    return intake.acknowledge(replay=not created)


def store(*, kind: str, body: bytes, channel_ids: Iterable[int]) -> tuple[WebhookDelivery, bool]:
    """Store a verified body once per ``(kind, sha256)``; committed when this returns."""
    digest = hashlib.sha256(body).hexdigest()
    try:
        with transaction.atomic():
            delivery = WebhookDelivery.objects.create(kind=kind, sha256=digest, body=body)
            delivery.channels.set(sorted(set(channel_ids)))
    except IntegrityError:
        # The same bytes were stored before (a platform retrying a delivery whose answer got
        # lost, or a replay): whatever state that one is in, it is the one that counts.
        return WebhookDelivery.objects.get(kind=kind, sha256=digest), False
    return delivery, True


def dispatch(delivery_id: int) -> None:
    """Queue a delivery's processing; with the broker down, leave it to the sweep."""
    from .tasks import process_webhook_delivery

    try:
        process_webhook_delivery.apply_async((delivery_id,), retry=False)
    except Exception:  # noqa: BLE001 - any broker failure: the row is stored, the sweep retries
        log.warning("broker unreachable; webhook delivery %s waits for the sweep", delivery_id)


# --- processing -------------------------------------------------------------------------------
def intake_named(name: str) -> WebhookIntake:
    from . import registry

    for kind, _label in registry.kinds():
        intake = getattr(registry.connector_class(kind), "webhook", None)
        if intake is not None and intake.name == name:
            return intake
    raise LookupError(f"no webhook intake named {name!r}")


def backoff(attempts: int) -> dt.timedelta:
    """Wait before attempt ``attempts + 1``: 30 s, 1, 2, 4 … minutes, at most an hour.

    The cap keeps every countdown well inside the broker's visibility timeout (docs/celery.md);
    were a countdown task redelivered anyway, the claim would let only one run through."""
    seconds = settings.WEBHOOK_RETRY_SECONDS * 2 ** max(0, attempts - 1)
    return dt.timedelta(seconds=min(seconds, 60 * 60))


def process_delivery(delivery_id: int) -> str:
    """One attempt at a stored delivery. Never raises: the outcome is on the row."""
    now = timezone.now()
    lease = dt.timedelta(seconds=settings.WEBHOOK_LEASE_SECONDS)
    # The claim: only a waiting, due delivery is taken, by exactly one worker, for one lease.
    claimed = WebhookDelivery.objects.filter(
        pk=delivery_id, state=DeliveryState.RECEIVED, next_attempt_at__lte=now
    ).update(attempts=F("attempts") + 1, next_attempt_at=now + lease, updated_at=now)
    if not claimed:
        return "skipped: processed, failed, not due or being processed"
    delivery = WebhookDelivery.objects.get(pk=delivery_id)
    try:
        intake = intake_named(delivery.kind)
        payload = parse_json(bytes(delivery.body))
        summary = intake.process(
            payload, channel_ids=list(delivery.channels.values_list("pk", flat=True))
        )
    except Exception as exc:  # noqa: BLE001 - recorded on the row and retried from it
        return _failed(delivery, exc)
    # Processed only now, after every ingest of this delivery has committed.
    WebhookDelivery.objects.filter(pk=delivery_id).update(
        state=DeliveryState.PROCESSED, processed_at=timezone.now(), last_error=""
    )
    return summary or "processed"


def _failed(delivery: WebhookDelivery, exc: Exception) -> str:
    error = str(exc.reason if isinstance(exc, Refused) else exc) or exc.__class__.__name__
    now = timezone.now()
    if delivery.attempts >= settings.WEBHOOK_MAX_ATTEMPTS:
        log.error(
            "webhook delivery %s failed for good after %d attempts: %s",
            delivery.pk,
            delivery.attempts,
            error,
            exc_info=exc,
        )
        WebhookDelivery.objects.filter(pk=delivery.pk).update(
            state=DeliveryState.FAILED, last_error=error[:2000], updated_at=now
        )
        return f"failed: {error}"
    wait = backoff(delivery.attempts)
    log.warning(
        "webhook delivery %s attempt %d failed (%s); again in %ss",
        delivery.pk,
        delivery.attempts,
        error,
        int(wait.total_seconds()),
        exc_info=exc,
    )
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        next_attempt_at=now + wait, last_error=error[:2000], updated_at=now
    )
    from .tasks import process_webhook_delivery

    try:
        process_webhook_delivery.apply_async((delivery.pk,), countdown=wait.total_seconds())
    except Exception:  # noqa: BLE001 - the sweep takes it when it is due
        log.warning("broker unreachable; webhook delivery %s waits for the sweep", delivery.pk)
    return f"retry in {int(wait.total_seconds())}s: {error}"


def sweep() -> int:
    """Queue every waiting delivery that is overdue (its task was lost); prune old ones.

    "Overdue" is ``WEBHOOK_STALL_SECONDS`` past its due time: the task queued at receipt (or
    the retry's countdown task) normally runs well before, and if both run, the claim lets only
    one through."""
    now = timezone.now()
    overdue = WebhookDelivery.objects.filter(
        state=DeliveryState.RECEIVED,
        next_attempt_at__lte=now - dt.timedelta(seconds=settings.WEBHOOK_STALL_SECONDS),
    ).order_by("next_attempt_at")
    ids = list(overdue.values_list("pk", flat=True)[:1000])
    for pk in ids:
        dispatch(pk)
    if ids:
        log.warning("re-queued %d overdue webhook deliveries", len(ids))
    # Processed deliveries are kept long enough to recognise a platform's redelivery (Meta
    # retries for up to 36 hours); failed ones a while longer, for the admin to see.
    keep = dt.timedelta(days=settings.WEBHOOK_KEEP_DAYS)
    WebhookDelivery.objects.filter(
        Q(state=DeliveryState.PROCESSED, received_at__lt=now - keep)
        | Q(state=DeliveryState.FAILED, received_at__lt=now - 4 * keep)
    ).delete()
    return len(ids)


def retry_failed(*, delivery: WebhookDelivery) -> bool:
    """An admin's "try again": a failed delivery waits again with fresh attempts."""
    updated = WebhookDelivery.objects.filter(pk=delivery.pk, state=DeliveryState.FAILED).update(
        state=DeliveryState.RECEIVED, attempts=0, next_attempt_at=timezone.now()
    )
    if updated:
        dispatch(delivery.pk)
    return bool(updated)

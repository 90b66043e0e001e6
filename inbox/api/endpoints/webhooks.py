"""Webhook subscriptions and their delivery log (admins)."""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import PermissionDenied
from ninja import Field, Query, Schema, Status

from inbox.api import services as api_services
from inbox.api import webhooks
from inbox.api.endpoints.base import ERRORS, _id
from inbox.api.endpoints.tokens import router
from inbox.core import access
from inbox.models import (
    OutboundDelivery,
    WebhookEvent,
    WebhookSubscription,
)


class WebhookOut(Schema):
    id: int
    url: str
    events: list[str]
    enabled: bool
    failures: int
    disabled_reason: str
    created_at: dt.datetime


class WebhookCreated(WebhookOut):
    secret: str = Field(description="The signing secret, shown this once.")


class WebhookIn(Schema):
    url: str = Field(..., min_length=8, max_length=1000)
    events: list[WebhookEvent] = Field(..., min_length=1)


class WebhookPatch(Schema):
    enabled: bool | None = None
    events: list[WebhookEvent] | None = None


def _webhook(s: WebhookSubscription) -> dict:
    return {
        f: getattr(s, f)
        for f in ("id", "url", "events", "enabled", "failures", "disabled_reason", "created_at")
    }


def _configure(request) -> None:
    if not access.can_configure(request.user):
        raise PermissionDenied("Only admins manage webhooks.")


@router.get("/webhooks", response={200: list[WebhookOut], **ERRORS})
def webhook_list(request):
    _configure(request)
    return [_webhook(s) for s in WebhookSubscription.objects.order_by("pk")]


@router.post("/webhooks", response={201: WebhookCreated, **ERRORS})
def webhook_create(request, body: WebhookIn):
    _configure(request)
    sub = api_services.subscription_create(
        user=request.user, url=body.url, events=[str(e) for e in body.events]
    )
    return Status(201, {**_webhook(sub), "secret": sub.secret})


@router.patch("/webhooks/{webhook_id}", response={200: WebhookOut, **ERRORS})
def webhook_update(request, webhook_id: int, body: WebhookPatch):
    _configure(request)
    sub = api_services.subscription_update(
        user=request.user,
        subscription_id=WebhookSubscription.objects.get(pk=_id(webhook_id)).pk,
        enabled=body.enabled,
        events=[str(e) for e in body.events] if body.events is not None else None,
    )
    return _webhook(sub)


@router.delete("/webhooks/{webhook_id}", response={204: None, **ERRORS})
def webhook_delete(request, webhook_id: int):
    _configure(request)
    sub = WebhookSubscription.objects.get(pk=_id(webhook_id))
    api_services.subscription_delete(user=request.user, subscription_id=sub.pk)
    return Status(204, None)


class DeliveryOut(Schema):
    id: int
    event: str
    ticket_id: int | None
    status: str
    attempts: int
    response_code: int | None
    duration_ms: int | None
    error: str
    created_at: dt.datetime
    next_attempt_at: dt.datetime
    delivered_at: dt.datetime | None


def _delivery(d: OutboundDelivery) -> dict:
    return {
        "id": d.pk,
        "event": d.event,
        "ticket_id": d.ticket_id,
        "status": d.status,
        "attempts": d.attempts,
        "response_code": d.response_code,
        "duration_ms": d.duration_ms,
        "error": d.error,
        "created_at": d.created_at,
        "next_attempt_at": d.next_attempt_at,
        "delivered_at": d.delivered_at,
    }


@router.get("/webhooks/{webhook_id}/deliveries", response={200: list[DeliveryOut], **ERRORS})
def webhook_deliveries(
    request, webhook_id: int, before: int | None = Query(None, ge=1, le=2**63 - 1)
):
    """The delivery log, newest first, 100 at a time (``before``: the last id seen)."""
    _configure(request)
    qs = OutboundDelivery.objects.filter(subscription_id=_id(webhook_id)).order_by("-pk")
    if before:
        qs = qs.filter(pk__lt=before)
    return [_delivery(d) for d in qs[:100]]


@router.post("/deliveries/{delivery_id}/resend", response={201: DeliveryOut, **ERRORS})
def delivery_resend(request, delivery_id: int):
    """Send a delivery again (a new copy at the end of its ticket's queue)."""
    _configure(request)
    return Status(201, _delivery(webhooks.send_again(delivery_id=_id(delivery_id))))

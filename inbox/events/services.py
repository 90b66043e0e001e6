"""Outbound webhook events: which changes are events, written to the outbox in the change's
own transaction (``OutboundDelivery`` rows), and a delivery run asked for after commit.

This is the bottom of the event path: the areas that change tickets (audit's ``activity_log``,
ingest, delivery, customers) call it, and it calls none of them. Delivering, signing and the
admin pages are ``inbox.api.webhooks``.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable

from django.core.cache import cache
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.utils import timezone

from inbox.models import Activity, OutboundDelivery, WebhookSubscription

log = logging.getLogger(__name__)

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


def activities_events(activities: Iterable[Activity]) -> None:
    """:func:`activity_event` for many rows (a batch of sent replies): the subscriptions are
    asked once per verb, not once per row."""
    wanted: dict[str, bool] = {}
    for activity in activities:
        event = VERB_EVENTS.get(activity.verb)
        if event is None:
            continue
        if event not in wanted:
            wanted[event] = bool(_subscriptions_for(event))
        if wanted[event]:
            activity_event(activity)


# Queued by name: this module sits below every area, so it imports no task module (whose
# imports reach the services that call it).
BATCH_KICK_TASK = "inbox.tasks.webhooks_deliver"


def _kick() -> None:
    from celery import current_app

    try:
        current_app.send_task(BATCH_KICK_TASK)
    except Exception:  # broker down: the beat sweep delivers them later
        log.warning("webhooks: could not queue a delivery run", exc_info=True)

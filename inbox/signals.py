"""What happens to tickets at ingest, inside the ingest transaction (``tickets_ingested``).

One receiver runs the engines in a fixed order, because each needs the previous one's result:
intent → routing rules (which may test the intent) → priority → SLA due time → auto-ack. The
engines change the ticket objects in memory and the receiver saves them with one bulk update, so
ingest stays a constant number of queries per batch. No network I/O here: anything that must
reach a platform is queued with ``transaction.on_commit``.
"""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from .models import Direction, Ticket
from .priority import identities_for, ticket_priority_apply
from .sla import Calendars, Targets, auto_ack_queue, sla_apply
from .triage import intent_apply

# Ticket fields the engines may change at ingest.
ENGINE_FIELDS = ["intent", "priority", "priority_parts", "due_at"]


def on_tickets_ingested(
    sender: Any,
    *,
    channel,
    tickets: list[Ticket],
    created_ticket_ids: set[int],
    messages: list,
    **kwargs: Any,
) -> None:
    now = timezone.now()
    intent_apply(tickets=tickets, messages=messages)
    identities = identities_for(tickets)
    ticket_priority_apply(tickets=tickets, identities=identities, now=now)
    calendars = Calendars(t.team_id for t in tickets)
    sla_apply(tickets=tickets, calendars=calendars, targets=Targets([channel.pk]))
    Ticket.objects.bulk_update(tickets, ENGINE_FIELDS)
    auto_ack_queue(
        channel=channel,
        tickets=tickets,
        inbound_ticket_ids={m.ticket_id for m in messages if m.direction == Direction.INBOUND},
        calendars=calendars,
        now=now,
    )

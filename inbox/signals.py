"""What happens to tickets at ingest, inside the ingest transaction (``tickets_ingested``).

One receiver runs the engines in a fixed order, because each needs the previous one's result:
intent → routing rules on new tickets (which may test the intent) → priority (which counts the
rules' points) → SLA due time (which depends on team and priority) → auto-acknowledgement (which
needs the team's hours and skips tickets a rule closed). The engines change the ticket objects in
memory and the receiver saves them with one bulk update, so ingest stays a constant number of
queries per batch. No network I/O here: anything that must reach a platform or another worker is
queued with ``transaction.on_commit``.
"""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from . import bulk
from .assignment import assignment_request
from .engine_config import engine_config
from .models import Activity, Direction, Ticket
from .priority import identities_for, ticket_priority_apply
from .routing import (
    new_customer_texts,
    routing_activities,
    routing_apply,
    routing_save,
)
from .sla import auto_ack_queue, sla_apply
from .triage import intent_apply

# Ticket fields the engines may change at ingest.
ENGINE_FIELDS = [
    "intent",
    "team",
    "assignee",
    "status",
    "closed_at",
    "close_reason",
    "waiting_since",
    "routing_trace",
    "priority",
    "priority_parts",
    "due_at",
    "first_response_due_at",
]


def _engine_values(ticket: Ticket, attnames: list[str]) -> tuple:
    # Lists (the routing trace, the priority parts) are copied: an engine may extend them.
    return tuple(
        list(value) if isinstance(value, list) else value
        for value in (getattr(ticket, name) for name in attnames)
    )


def _save_engine_fields(tickets: list[Ticket], before: list[tuple], attnames: list[str]) -> None:
    """Write what the engines changed: only those tickets, only the columns that changed in
    any of them, in one set-based statement (Django's bulk_update costs more than the rest of
    the batch)."""
    changed, columns = [], set()
    for ticket, old in zip(tickets, before, strict=True):
        new = _engine_values(ticket, attnames)
        if new != old:
            changed.append(ticket)
            columns.update(i for i, (a, b) in enumerate(zip(old, new, strict=True)) if a != b)
    if changed:
        bulk.update_rows(
            Ticket,
            [t.pk for t in changed],
            {ENGINE_FIELDS[i]: [getattr(t, attnames[i]) for t in changed] for i in sorted(columns)},
        )


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
    attnames = [Ticket._meta.get_field(name).attname for name in ENGINE_FIELDS]
    before = [_engine_values(t, attnames) for t in tickets]
    intent_apply(tickets=tickets, messages=messages)
    identities = identities_for(tickets)

    config = engine_config()
    new_tickets = [t for t in tickets if t.pk in created_ticket_ids]
    routed = None
    if new_tickets:
        routed = routing_apply(
            tickets=new_tickets,
            rules=config.rules,
            texts=new_customer_texts(messages),
            identities=identities,
            now=now,
        )

    ticket_priority_apply(tickets=tickets, identities=identities, now=now)
    calendars = config.calendars
    sla_apply(tickets=tickets, calendars=calendars, targets=config.targets)
    _save_engine_fields(tickets, before, attnames)
    if routed is not None:
        routing_save(routed, now=now)

    activities: list[Activity] = routing_activities(new_tickets, now)
    auto_ack_queue(
        channel=channel,
        tickets=tickets,
        inbound_ticket_ids={m.ticket_id for m in messages if m.direction == Direction.INBOUND},
        calendars=calendars,
        now=now,
        activities=activities,
    )
    if activities:
        Activity.objects.bulk_create(activities)

    # New unassigned work for teams that assign automatically: run their assignment after
    # commit, in a worker (the run locks rows; the ingest transaction must stay short).
    teams = {t.team_id for t in tickets if t.team_id and t.assignee_id is None}
    for team_id in teams:
        assignment_request(team_id=team_id)

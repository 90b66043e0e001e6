"""What happens to tickets at ingest, inside the ingest transaction.

``inbox.ingest.services.ingest_batch`` calls ``engines_apply`` explicitly (step 5 of its
documented order), before it writes the tickets. It runs the engines in a fixed order, because
each needs the previous one's result: intent → routing rules on new tickets (which may test the
intent) → priority (which counts the rules' points) → SLA due time (which depends on team and
priority) → auto-acknowledgement (which needs the team's hours and skips tickets a rule closed).

The engines run on the ticket rows ingest holds *before* it writes them: they change the rows in
memory, and ingest inserts or updates each ticket once, engine fields included (a reload of the
tickets and a second update cost about 14 ms of every 500-message batch). What needs the tickets'
ids — tag and incident links, "routed" and "auto_ack_queued" activities, the acknowledgements
themselves — is done by the step ``engines_apply`` returns, which ingest calls after writing. The
rules, calendars and SLA targets come from the per-worker copy in ``inbox.engines.engine_config``;
the
authors' reach from ingest's own identity lookup. So ingest stays a constant number of queries
per batch. No network I/O here: anything that must reach a platform or another worker is queued
with ``transaction.on_commit``.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable
from typing import Any

from django.utils import timezone

from inbox.core import bulk
from inbox.engines.assignment import assignment_request
from inbox.engines.engine_config import EngineConfig, engine_config
from inbox.engines.priority import Reach, identity_reach, ticket_priority_apply
from inbox.engines.routing import (
    Routed,
    new_customer_texts,
    routing_activities,
    routing_apply,
    routing_save,
)
from inbox.engines.sla import auto_ack_queue, sla_apply
from inbox.engines.triage import intent_apply
from inbox.models import Activity, Direction
from inbox.tickets.timing import business_durations_set


def _reach_of(tickets: list, reach: dict[int, Reach]) -> dict[int, Reach]:
    """The reach of the tickets' authors: what ingest read, plus one query for authors not in
    this batch (a follow-up by someone else in an older thread)."""
    missing = {t.identity_id for t in tickets if t.identity_id and t.identity_id not in reach}
    return {**reach, **identity_reach(missing)} if missing else reach


def _business_durations_stale(ticket) -> bool:
    return (ticket.first_response_at is not None) != (
        ticket.first_response_business_seconds is not None
    ) or (ticket.closed_at is not None) != (ticket.resolution_business_seconds is not None)


def engines_apply(
    *,
    channel: Any,
    tickets: list,
    created_ticket_ids: set[int],
    messages: list,
    reach: dict[int, Reach],
) -> Callable[..., None]:
    """Set the engine fields of ``tickets`` (the rows ingest is about to write) in memory; return
    the step ingest calls with ``tickets=`` (the rows as written, with their ids) after writing."""
    now = timezone.now()
    config = engine_config(*([channel.engine_stamp] if hasattr(channel, "engine_stamp") else []))
    intent_apply(tickets=tickets, messages=messages)
    identities = _reach_of(tickets, reach)

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
    sla_apply(tickets=tickets, calendars=config.calendars, targets=config.targets)
    # Our echoed answer set the first response, a rule closed the ticket, or a customer
    # reopened it: store the business-time durations (only for those, the rest are as stored).
    for ticket in tickets:
        if _business_durations_stale(ticket):
            business_durations_set(ticket, config.calendars)

    # The rows, not only their ids: a ticket ingest prepares again (when its guess of what is
    # new was wrong) is a new row with the same id, and only the rows written as prepared count.
    by_id = {t.pk: t for t in tickets}
    inbound = [by_id[m.ticket_id] for m in messages if m.direction == Direction.INBOUND]

    return functools.partial(
        _finish,
        channel=channel,
        config=config,
        routed=routed,
        by_id=by_id,
        new_tickets=new_tickets,
        inbound=inbound,
        now=now,
    )


def _finish(
    *,
    tickets: list,
    channel: Any,
    config: EngineConfig,
    routed: Routed | None,
    by_id: dict[int, Any],
    new_tickets: list,
    inbound: list,
    now: dt.datetime,
) -> None:
    """The step ``engines_apply`` returns, called with ``tickets=`` (the rows as written, with
    their ids): tag and incident links, activities, acknowledgements, the assignment request."""
    written = set(tickets)
    if routed is not None:
        routed.tag_links = [
            (by_id[t].pk, tag) for t, tag in routed.tag_links if by_id[t] in written
        ]
        routed.incident_links = [
            (by_id[t].pk, incident, rule)
            for t, incident, rule in routed.incident_links
            if by_id[t] in written
        ]
        routing_save(routed, now=now)

    activities: list[Activity] = routing_activities([t for t in new_tickets if t in written], now)
    auto_ack_queue(
        channel=channel,
        tickets=tickets,
        inbound_ticket_ids={t.pk for t in inbound if t in written},
        calendars=config.calendars,
        now=now,
        activities=activities,
        acks=config.acks,
    )
    if activities:
        # One set-based insert of plain columns (Django's bulk_create costs more).
        bulk.insert_rows(
            Activity,
            {
                "ticket": [a.ticket_id for a in activities],
                "verb": [a.verb for a in activities],
                "after": [a.after for a in activities],
                "created_at": [a.created_at for a in activities],
            },
            returning=(),
        )

    # New unassigned work for teams that assign automatically: run their assignment after
    # commit, in a worker (the run locks rows; the ingest transaction must stay short).
    teams = {t.team_id for t in tickets if t.team_id and t.assignee_id is None}
    for team_id in teams:
        assignment_request(team_id=team_id)

"""Reads for the thread pane: the customer's other tickets, "Why is this here?" and the incidents
beside it. The thread's messages are read by ``inbox.tickets.thread``, the list's by
``inbox.tickets.selectors``.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass

from django.db.models import Exists, OuterRef, Q
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from inbox.core import access
from inbox.engines.intent import Evidence, classify
from inbox.models import (
    Activity,
    Customer,
    Direction,
    Incident,
    IncidentStatus,
    IncidentTicket,
    Intent,
    Message,
    Ticket,
)
from inbox.screen.thread_html import span
from inbox.tickets.thread import ThreadMessage


def customer_group_ids(customer: Customer | None) -> list[int]:
    """The customer and everyone linked to them as the same person."""
    if customer is None:
        return []
    root_id = customer.merged_into_id or customer.pk
    return list(
        Customer.objects.filter(Q(pk=root_id) | Q(merged_into_id=root_id)).values_list(
            "pk", flat=True
        )
    )


def other_tickets(user, ticket: Ticket, limit: int = 10) -> list[Ticket]:
    """The customer's other tickets on any channel, also those of everyone linked to them as
    the same person.

    The group's ids are read first and passed as values: as a subquery, PostgreSQL could not
    tell how many customers it holds and, for an agent, walked every ticket in ``updated_at``
    order instead of the customer's index (0.5 s a thread under load on 1M tickets).
    """
    group = customer_group_ids(ticket.customer)
    if not group:
        return []
    # One customer (the usual case) as an equality: ordered by (customer, updated_at) in its
    # index. An IN list made PostgreSQL walk every ticket in updated_at order looking for ten of
    # theirs (48 ms a thread on average under load).
    mine = Q(customer_id=group[0]) if len(group) == 1 else Q(customer_id__in=group)
    return list(
        access.visible_tickets(user)
        .filter(mine)
        .exclude(pk=ticket.pk)
        .select_related("channel")
        .order_by("-updated_at")[:limit]
    )


# --- "Why is this here?" beside a thread ------------------------------------------------------
@dataclass
class RuleTouch:
    name: str
    matched: list[str]
    actions: list[str]
    at: dt.datetime | None


@dataclass
class Why:
    """What the engines decided about a ticket and why, for the thread's side panel."""

    intent: str
    corrected: bool
    # The classification of the newest customer message: the words, emoji and rules that
    # decided, and (when a person corrected the intent) what the lexicon would say.
    evidence: tuple[Evidence, ...]
    suggested: str
    priority_parts: list[tuple[str, int]]
    priority: int
    rules: list[RuleTouch]


_DURATION_PART = re.compile(r"(\d+) (d|h|min)")
_UNIT_SECONDS = {"d": 86400, "h": 3600, "min": 60}


def _stored_duration_seconds(text: str) -> int | None:
    """ "2 h 59 min" / "1 d 3 h" / "12 min" (``inbox.engines.priority._duration``) in seconds."""
    parts = _DURATION_PART.findall(text)
    if not parts or _DURATION_PART.sub("", text).strip():
        return None
    return sum(int(n) * _UNIT_SECONDS[unit] for n, unit in parts)


def priority_reason_label(reason: str) -> str:
    """A stored priority reason (``inbox.engines.priority.priority_parts``, English) in the user's
    language; an unknown one is shown as stored."""
    intents = dict(Intent.choices)
    if reason in intents:
        return str(intents[reason])
    if reason.startswith("waiting "):
        stored = reason.removeprefix("waiting ")
        seconds = _stored_duration_seconds(stored)
        # Stored in English units ("2 h 59 min"): shown rounded, in the reader's units.
        duration = span(seconds) if seconds is not None else stored
        return _("waiting %(duration)s") % {"duration": duration}
    if reason.endswith(" followers"):
        return _("%(count)s followers") % {"count": reason.removesuffix(" followers")}
    if reason.endswith("-star review") and reason[:1].isdigit():
        return _("%(stars)s-star review") % {"stars": reason[:1]}
    if reason.startswith("rule "):
        return _("rule %(name)s") % {"name": reason.removeprefix("rule ")}
    return {"verified account": _("verified account"), "VIP customer": _("VIP customer")}.get(
        reason, reason
    )


def ticket_why(ticket: Ticket, messages: Sequence[Message | ThreadMessage]) -> Why:
    """Intent with its evidence, priority as its parts, the routing rules that touched the
    ticket. No queries: ``messages`` is the thread as loaded for the page."""
    newest = None
    for message in messages:
        if message.direction == Direction.INBOUND:
            newest = message  # ordered by time: the last one is the newest
    result = classify(newest.text, rating=newest.rating) if newest is not None else None
    rules = []
    for entry in ticket.routing_trace or []:
        if not isinstance(entry, dict):
            continue
        at = parse_datetime(entry.get("at") or "")
        rules.append(
            RuleTouch(
                name=str(entry.get("name") or entry.get("rule") or ""),
                matched=[str(m) for m in entry.get("matched") or []],
                actions=[str(a) for a in entry.get("actions") or []],
                at=at,
            )
        )
    return Why(
        intent=ticket.intent,
        corrected=ticket.intent_corrected,
        evidence=result.evidence if result else (),
        suggested=result.intent if result else "",
        priority_parts=[
            (priority_reason_label(str(reason)), int(points))
            for reason, points in ticket.priority_parts or []
        ],
        priority=ticket.priority,
        rules=rules,
    )


@dataclass
class TicketIncidents:
    linked: list[Incident]
    # Open incidents the ticket is not linked to yet: the lead's choices.
    choices: list[Incident]


def ticket_incidents(user, ticket: Ticket) -> TicketIncidents:
    """The incidents the ticket is linked to and, for leads, the open ones to link it to: one
    query. Each has ``linked`` and ``answered`` (the resolution already replied, so the link
    stays)."""
    links = IncidentTicket.objects.filter(ticket_id=ticket.pk)
    wanted = Q(pk__in=links.values("incident_id"))
    if access.can_assign(user):
        wanted |= Q(status=IncidentStatus.OPEN)
    rows = list(
        Incident.objects.filter(wanted)
        .annotate(
            linked=Exists(links.filter(incident_id=OuterRef("pk"))),
            answered=Exists(links.filter(incident_id=OuterRef("pk"), reply__isnull=False)),
        )
        .order_by("-declared_at", "-pk")
    )
    return TicketIncidents(
        linked=[i for i in rows if i.linked], choices=[i for i in rows if not i.linked]
    )


def claimed_by_holder(ticket: Ticket) -> bool:
    """Whether the ticket's holder took it themselves (a claim, or replying to it) rather than
    being given it (a lead's assignment, team rotation, a rule): the header says "Claimed by"
    or "Assigned to". One indexed query (``activity_ticket_time``); none when nobody holds it."""
    if ticket.assignee_id is None:
        return False
    last = (
        Activity.objects.filter(
            ticket_id=ticket.pk, verb__in=("claimed", "assigned", "team_assignment", "routed")
        )
        .order_by("-created_at", "-id")
        .values_list("verb", "actor_id")
        .first()
    )
    return last is not None and last[0] == "claimed" and last[1] == ticket.assignee_id

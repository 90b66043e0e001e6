"""Intent on tickets: set at ingest from the newest inbound message, corrected by leads."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from inbox.audit.services import activity_log
from inbox.core.business_time import Calendars
from inbox.engines.intent import INTENTS, IntentResult, classify, intent_of
from inbox.engines.priority import identities_for, ticket_priority_apply
from inbox.engines.sla import Targets, sla_apply
from inbox.models import OPEN_STATUSES, Direction, IntentCorrection, Message, Ticket


def newest_inbound(messages: Iterable[Message]) -> dict[int, Message]:
    """The newest inbound message per ticket id among ``messages``."""
    newest: dict[int, Message] = {}
    for message in messages:
        if message.direction != Direction.INBOUND:
            continue
        current = newest.get(message.ticket_id)
        if current is None or message.sent_at >= current.sent_at:
            newest[message.ticket_id] = message
    return newest


def intent_apply(*, tickets: Sequence[Ticket], messages: Iterable[Message]) -> list[Ticket]:
    """Classify each ticket's newest new inbound message, in memory; return the changed tickets.

    A ticket whose intent a lead corrected keeps the correction. No queries: the caller saves.
    """
    newest = newest_inbound(messages)
    changed = []
    for ticket in tickets:
        message = newest.get(ticket.pk)
        if message is None or ticket.intent_corrected:
            continue
        intent = intent_of(message.text, rating=message.rating)
        if intent != ticket.intent:
            ticket.intent = intent
            changed.append(ticket)
    return changed


def tickets_by_intent(*, intent: str, answered: bool | None = None):
    """Open tickets of one intent, longest waiting first: e.g. the compliments view (half of all
    shops never answer praise; we do). ``answered`` False keeps only those not answered yet."""
    tickets = Ticket.objects.filter(intent=intent, status__in=OPEN_STATUSES)
    if answered is not None:
        tickets = tickets.filter(first_response_at__isnull=not answered)
    return tickets.order_by(F("waiting_since").asc(nulls_last=True), "pk")


def ticket_intent_explain(*, ticket: Ticket) -> IntentResult | None:
    """Why the ticket has its intent: the classification of its newest inbound message."""
    message = (
        ticket.messages.filter(direction=Direction.INBOUND).order_by("-sent_at", "-id").first()
    )
    if message is None:
        return None
    return classify(message.text, rating=message.rating)


def ticket_intent_correct(*, ticket_id: int, user: User | None, intent: str) -> Ticket:
    """Set the ticket's intent by hand and recompute what depends on it.

    The ticket is marked ``intent_corrected``, so ingest keeps the correction when the customer
    writes again (:func:`intent_apply`). Priority counts the intent, and the SLA target is chosen
    by priority, so both are recomputed here, under the same row lock. The correction is kept
    as a labelled example (text, stars, old and new label) for ``intent_report --corrections``.
    The caller checks that ``user`` may work the ticket.
    """
    if intent not in INTENTS:
        raise ValueError(f"unknown intent {intent!r}")
    with transaction.atomic():
        ticket = Ticket.objects.select_for_update().get(pk=ticket_id)
        message = (
            ticket.messages.filter(direction=Direction.INBOUND).order_by("-sent_at", "-id").first()
        )
        before = {
            "intent": ticket.intent,
            "intent_corrected": ticket.intent_corrected,
            "priority": ticket.priority,
            "due_at": ticket.due_at.isoformat() if ticket.due_at else None,
        }
        IntentCorrection.objects.create(
            ticket=ticket,
            message=message,
            text=message.text if message else ticket.subject,
            rating=message.rating if message else ticket.rating,
            language=ticket.language,
            original=ticket.intent,
            corrected=intent,
            actor=user if user is not None and user.is_authenticated else None,
        )
        ticket.intent = intent
        ticket.intent_corrected = True
        ticket_priority_apply(tickets=[ticket], identities=identities_for([ticket]))
        sla_apply(
            tickets=[ticket],
            calendars=Calendars([ticket.team_id]),
            targets=Targets([ticket.channel_id]),
        )
        ticket.updated_at = timezone.now()
        ticket.version += 1
        ticket.save(
            update_fields=[
                "intent",
                "intent_corrected",
                "priority",
                "priority_parts",
                "due_at",
                "first_response_due_at",
                "updated_at",
                "version",
            ]
        )
        activity_log(
            ticket=ticket,
            actor=user,
            verb="intent_corrected",
            before=before,
            after={
                "intent": intent,
                "intent_corrected": True,
                "priority": ticket.priority,
                "due_at": ticket.due_at.isoformat() if ticket.due_at else None,
            },
        )
    return ticket


def ticket_correct_intent(*, ticket: Ticket, actor: User | None, intent: str) -> Ticket:
    """The same as :func:`ticket_intent_correct`, for callers holding a ticket object."""
    return ticket_intent_correct(ticket_id=ticket.pk, user=actor, intent=intent)

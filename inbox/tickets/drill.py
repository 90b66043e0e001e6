"""Drill-down from the dashboard: the inbox list's filters that select exactly the tickets a
figure was computed from (``inbox.reports``), so every figure links to the tickets behind it."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Protocol, TypedDict

from django.db.models import F, IntegerField, Q, QuerySet

from inbox.models import Ticket, TicketStatus

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations


class DrillFilter(Protocol):
    """The drill-down fields of the list's filter (``selectors.ListFilter``)."""

    period: str
    since: dt.datetime | None
    until: dt.datetime | None
    intent: str
    sla: str
    measure: str
    responder: int | None


# Drill-down from the dashboard: which instant a period filter ("from"/"to") applies to, as each
# figure counts it (inbox.reports.selectors), and the SLA outcome of the first response.
PERIOD_FIELDS = {
    "created": "created_at",
    "opened": "first_inbound_at",
    "closed": "closed_at",
    "due": "first_response_due_at",
}
# "decided" is met or breached (the SLA rate's base); "pending" still within time.
SLA_OUTCOMES = ("met", "breached", "decided", "pending")
# The sample of each time figure: tickets answered (first response), answered with business
# time measured, and closed with a (business) resolution time; a figure's median and p90 are
# over exactly these tickets of its period.
MEASURES = ("response", "response_business", "resolution", "resolution_business")


def drill_down(qs: QuerySet[Ticket], flt: DrillFilter) -> QuerySet[Ticket]:
    """The dashboard's selections, counted as its figures count them."""
    column = PERIOD_FIELDS.get(flt.period)
    if column and flt.since:
        qs = qs.filter(**{f"{column}__gte": flt.since})
    if column and flt.until:
        qs = qs.filter(**{f"{column}__lt": flt.until})
    if flt.period == "closed":
        qs = qs.filter(status=TicketStatus.CLOSED)
    if flt.intent:
        qs = qs.filter(intent=flt.intent)
    if flt.sla:
        qs = qs.filter(_sla_q(flt.sla))
    if flt.measure:
        qs = qs.filter(**MEASURED[flt.measure])
    if flt.responder:
        # An annotation of with_responder, typed there (WithAnnotations).
        qs = with_responder(qs).filter(responder=flt.responder)
    return qs


# The tickets each time figure is computed over (``inbox.reports``: ``_both`` and SCALARS_SQL).
MEASURED = {
    # Answered (with period "opened", first_inbound_at is in the period, so it is set).
    "response": {"first_response_at__isnull": False},
    "response_business": {
        "first_inbound_at__isnull": False,
        "first_response_business_seconds__isnull": False,
    },
    "resolution": {"first_inbound_at__isnull": False, "closed_at__isnull": False},
    "resolution_business": {
        "first_inbound_at__isnull": False,
        "closed_at__isnull": False,
        "resolution_business_seconds__isnull": False,
    },
}


def _sla_q(outcome: str) -> Q:
    """The first response's SLA outcome, as ``inbox.reports`` counts it."""
    from django.utils import timezone

    now = timezone.now()
    met = Q(first_response_at__isnull=False, first_response_at__lte=F("first_response_due_at"))
    breached = Q(
        first_response_at__isnull=False, first_response_at__gt=F("first_response_due_at")
    ) | Q(first_response_at__isnull=True, first_response_due_at__lte=now)
    pending = Q(first_response_at__isnull=True, first_response_due_at__gt=now)
    return {"met": met, "breached": breached, "decided": met | breached, "pending": pending}[
        outcome
    ]


class Responder(TypedDict):
    """The annotation :func:`with_responder` adds."""

    responder: int | None


def with_responder(
    tickets: QuerySet[Ticket],
) -> QuerySet[WithAnnotations[Ticket, Responder]]:
    """``responder`` (shared with the dashboard, ``inbox.reports``): who gave the first answer
    (the author of the first reply that went to the customer), else the assignee. First-response
    times count for that person, so an incident answer, sent by the lead who resolved it on
    tickets nobody held, counts for that lead."""
    from django.db.models import OuterRef, Subquery
    from django.db.models.functions import Coalesce

    from inbox.models import Direction, Message

    first_reply = (
        Message.objects.filter(
            ticket_id=OuterRef("pk"), direction=Direction.OUTBOUND, author_user__isnull=False
        )
        .exclude(reply_mode="note")
        .order_by("sent_at", "pk")
        .values("author_user")[:1]
    )
    return tickets.annotate(
        responder=Coalesce(
            Subquery(first_reply, output_field=IntegerField()),
            F("assignee_id"),
            output_field=IntegerField(),
        )
    )

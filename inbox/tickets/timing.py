"""A ticket's time figures that its writers keep: the business-time durations stored when it is
answered or closed, and the "due soon" test shared by the inbox's "At risk" view and the SLA
engine's list (``inbox.engines.sla.sla_at_risk``).

In the tickets area, below the engines and replies that call it: ``ticket_close`` sets the
durations, as do delivery (our first answer) and ingest's engines step.
"""

from __future__ import annotations

import datetime as dt

from django.db.models import Q
from django.utils import timezone

from inbox.core.business_time import Calendars, business_time_between
from inbox.models import OPEN_STATUSES, Ticket

BUSINESS_DURATION_FIELDS = ("first_response_business_seconds", "resolution_business_seconds")


def business_durations_set(ticket: Ticket, calendars: Calendars | None = None) -> None:
    """Set the ticket's business-time first response and resolution, in memory, from
    ``first_inbound_at`` to ``first_response_at`` / ``closed_at`` on its team's calendar.

    Called wherever those are set (our answer is sent or echoed, the ticket closes), so reports
    aggregate stored seconds instead of walking a calendar per row. Without ``calendars`` it
    loads the one it needs (two or three small queries); the caller saves the fields.
    """
    start = ticket.first_inbound_at
    first, closed = ticket.first_response_at, ticket.closed_at
    if start is None or (first is None and closed is None):
        ticket.first_response_business_seconds = None
        ticket.resolution_business_seconds = None
        return
    calendar = (calendars or Calendars([ticket.team_id])).for_team(ticket.team_id)

    def seconds(end: dt.datetime | None) -> int | None:
        if end is None:
            return None
        return int(business_time_between(calendar, start, end).total_seconds())

    ticket.first_response_business_seconds = seconds(first)
    ticket.resolution_business_seconds = seconds(closed)


def at_risk_q(*, within: dt.timedelta, now: dt.datetime | None = None) -> Q:
    """Open tickets due within ``within`` of ``now``, or overdue: shared by :func:`sla_at_risk`
    and the inbox's "At risk" view, so both mean the same."""
    now = now or timezone.now()
    return Q(status__in=OPEN_STATUSES, due_at__isnull=False, due_at__lte=now + within)

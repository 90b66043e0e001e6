"""The one-row-per-conversation CSV export, streamed: tickets are read in keyset chunks of
``CHUNK`` by id, so a year of tickets never sits in memory, and each line goes out as written.
Cells pass through the dashboard's ``csv_cell`` (formula cells defused)."""

from __future__ import annotations

import csv
import datetime as dt
from collections import defaultdict
from collections.abc import Iterator

from django.db.models import Q

from inbox.models import Ticket
from inbox.reports.selectors import csv_cell

CHUNK = 2000
COLUMNS = (
    "ticket", "channel", "channel_kind", "kind", "customer", "handle", "status", "created_at",
    "first_inbound_at", "first_response_at", "closed_at", "first_response_seconds",
    "first_response_business_seconds", "resolution_seconds", "resolution_business_seconds",
    "tags", "intent", "assignee", "team", "sla_met",
)  # fmt: skip


class _Echo:
    def write(self, value: str) -> str:
        return value


def _seconds(start: dt.datetime | None, end: dt.datetime | None) -> int | None:
    return int((end - start).total_seconds()) if start and end else None


def _sla_met(t: Ticket) -> str:
    if t.first_response_due_at is None:
        return ""
    if t.first_response_at is None:
        return ""
    return "yes" if t.first_response_at <= t.first_response_due_at else "no"


def conversations(
    *, start: dt.datetime, end: dt.datetime, team_id: int | None = None
) -> Iterator[dict]:
    """Tickets created in ``[start, end)`` as export rows, read CHUNK at a time by id."""
    base = Ticket.objects.filter(created_at__gte=start, created_at__lt=end)
    if team_id:
        base = base.filter(team_id=team_id)
    base = base.select_related("channel", "customer", "identity", "assignee", "team")
    last = 0
    while True:
        chunk = list(base.filter(Q(pk__gt=last)).order_by("pk")[:CHUNK])
        if not chunk:
            return
        tags: dict[int, list[str]] = defaultdict(list)
        through = Ticket.tags.through.objects.filter(ticket_id__in=[t.pk for t in chunk])
        for ticket_id, name in through.values_list("ticket_id", "tag__name"):
            tags[ticket_id].append(name)
        for t in chunk:
            assignee = t.assignee
            yield {
                "ticket": t.pk,
                "channel": t.channel.name,
                "channel_kind": t.channel.kind,
                "kind": t.kind,
                "customer": (t.customer.display_name if t.customer is not None else "")
                or (t.identity.display_name if t.identity is not None else ""),
                "handle": t.identity.handle if t.identity is not None else "",
                "status": t.status,
                "created_at": t.created_at.isoformat(),
                "first_inbound_at": t.first_inbound_at.isoformat() if t.first_inbound_at else "",
                "first_response_at": t.first_response_at.isoformat() if t.first_response_at else "",
                "closed_at": t.closed_at.isoformat() if t.closed_at else "",
                "first_response_seconds": _seconds(t.first_inbound_at, t.first_response_at),
                "first_response_business_seconds": t.first_response_business_seconds,
                "resolution_seconds": _seconds(t.first_inbound_at, t.closed_at),
                "resolution_business_seconds": t.resolution_business_seconds,
                "tags": ", ".join(sorted(tags[t.pk])),
                "intent": t.intent,
                "assignee": (assignee.get_full_name() or assignee.get_username())
                if assignee
                else "",
                "team": t.team.name if t.team is not None else "",
                "sla_met": _sla_met(t),
            }
        last = chunk[-1].pk


def csv_lines(rows: Iterator[dict]) -> Iterator[str]:
    writer = csv.writer(_Echo())
    yield writer.writerow(COLUMNS)
    for row in rows:
        yield writer.writerow([csv_cell(row.get(c)) for c in COLUMNS])

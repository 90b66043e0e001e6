"""Business hours, SLA due times and the out-of-hours acknowledgement.

Time arithmetic: opening hours are wall-clock times in the calendar's zone ("08:00–18:00
Europe/Amsterdam"). Each day's intervals are turned into UTC instants with ``zoneinfo`` and all
arithmetic happens in UTC, so a night across a DST change is as long as it really is. (Python's
aware-datetime arithmetic within one zone is wall-clock arithmetic, hence the rule: convert to
UTC before adding or subtracting.) A local time that does not exist on a spring-forward day is
read with the offset before the change (``fold=0``), which lands on the same instant as the
first valid time after the gap.

A calendar with no opening hours at all is always open: a misconfigured calendar must not make
every ticket due "never".
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from inbox.core.bulk import insert_rows
from inbox.core.business_time import (
    DAY_NAMES,
    Calendar,
    Calendars,
    _utc,
    add_business_time,
    is_open,
    next_opening,
)
from inbox.core.dispatch import dispatch_send
from inbox.models import (
    OPEN_STATUSES,
    Activity,
    AutoAck,
    DeliveryState,
    Direction,
    Message,
    SlaTarget,
    Ticket,
    TicketKind,
)
from inbox.tickets.timing import at_risk_q

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Target:
    first_response: dt.timedelta
    next_response: dt.timedelta
    business_time: bool = True


DEFAULT_TARGET = Target(dt.timedelta(minutes=60), dt.timedelta(minutes=60))


def content_priority(ticket: Ticket) -> int:
    """The priority without its waiting-time part: what the SLA target is chosen by. Otherwise
    a ticket that waits long enough would move to a stricter target and be overdue at once."""
    waited = sum(
        points
        for reason, points in ticket.priority_parts or []
        if isinstance(reason, str) and reason.startswith("waiting ")
    )
    return ticket.priority - waited


class Targets:
    """SLA targets, loaded with one query; ``for_ticket`` picks the most specific one.

    ``channel_ids`` None loads the targets of every channel."""

    def __init__(self, channel_ids: Iterable[int] | None) -> None:
        targets = SlaTarget.objects.all()
        if channel_ids is not None:
            targets = targets.filter(Q(channel__isnull=True) | Q(channel_id__in=set(channel_ids)))
        self._rows = list(targets)

    def for_ticket(self, ticket: Ticket) -> Target:
        best = None
        for row in self._rows:
            if row.channel_id not in (None, ticket.channel_id):
                continue
            if row.min_priority > content_priority(ticket):
                continue
            key = (row.channel_id is not None, row.min_priority, -row.pk)
            if best is None or key > best[0]:
                best = (key, row)
        if best is None:
            return DEFAULT_TARGET
        row = best[1]
        return Target(
            dt.timedelta(minutes=row.first_response_minutes),
            dt.timedelta(minutes=row.next_response_minutes),
            row.business_time,
        )


def due_at(ticket: Ticket, calendar: Calendar, target: Target) -> dt.datetime | None:
    """When the ticket's next answer is due: None unless the customer is waiting."""
    if ticket.waiting_since is None or ticket.status not in OPEN_STATUSES:
        return None
    allowed = target.first_response if ticket.first_response_at is None else target.next_response
    if not target.business_time:
        return _utc(ticket.waiting_since) + allowed
    return add_business_time(calendar, ticket.waiting_since, allowed)


def sla_apply(*, tickets: Sequence[Ticket], calendars: Calendars, targets: Targets) -> list[Ticket]:
    """Set ``due_at`` on the tickets in memory; return those that changed."""
    changed = []
    for ticket in tickets:
        due = due_at(ticket, calendars.for_team(ticket.team_id), targets.for_ticket(ticket))
        first_due = ticket.first_response_due_at
        if ticket.first_response_at is None and due is not None:
            first_due = due  # kept after the answer: SLA attainment is measured against it
        if due != ticket.due_at or first_due != ticket.first_response_due_at:
            ticket.due_at = due
            ticket.first_response_due_at = first_due
            changed.append(ticket)
    return changed


def ticket_sla_refresh(*, ticket: Ticket) -> Ticket:
    """Recompute one ticket's due time and save it: for the reply and status services to call
    after they change ``waiting_since``, ``first_response_at`` or the status (an answer clears
    the due time; the customer's next message sets the next-response one)."""
    with transaction.atomic():
        ticket = Ticket.objects.select_for_update().get(pk=ticket.pk)
        sla_apply(
            tickets=[ticket],
            calendars=Calendars([ticket.team_id]),
            targets=Targets([ticket.channel_id]),
        )
        Ticket.objects.filter(pk=ticket.pk).update(
            due_at=ticket.due_at, first_response_due_at=ticket.first_response_due_at
        )
    return ticket


def sla_sweep(*, now: dt.datetime | None = None) -> int:
    """Clear due times nobody waits for any more (answered, closed, pending): one UPDATE.

    The safety net for reply and status paths that do not call :func:`ticket_sla_refresh`;
    scheduled every minute. Returns how many tickets it cleared.
    """
    return (
        Ticket.objects.filter(due_at__isnull=False)
        .filter(Q(waiting_since__isnull=True) | ~Q(status__in=OPEN_STATUSES))
        .update(due_at=None)
    )


BREACH_LOOKBACK = dt.timedelta(days=1)


def sla_breaches_record(*, now: dt.datetime | None = None, limit: int = 1000) -> int:
    """Write one ``sla_breached`` activity for each open ticket whose first answer fell due
    (within ``BREACH_LOOKBACK``) without one; the activity row is the marker that it was
    recorded, and through ``activity_log`` it is also the ``sla.breached`` webhook event.
    Runs with the SLA sweep; idempotent."""
    from django.db import transaction
    from django.db.models import Exists, OuterRef

    from inbox.audit.services import activity_log
    from inbox.models import Activity

    now = now or timezone.now()
    recorded = Activity.objects.filter(ticket_id=OuterRef("pk"), verb="sla_breached")
    due = (
        Ticket.objects.filter(
            status__in=OPEN_STATUSES,
            first_response_at__isnull=True,
            first_response_due_at__gt=now - BREACH_LOOKBACK,
            first_response_due_at__lte=now,
        )
        .exclude(Exists(recorded))
        .order_by("first_response_due_at", "pk")[:limit]
    )
    n = 0
    for ticket in due:
        due_at = ticket.first_response_due_at
        assert due_at is not None  # first_response_due_at__lte above
        with transaction.atomic():
            activity_log(
                ticket=ticket,
                actor=None,
                verb="sla_breached",
                after={"due_at": due_at.isoformat()},
            )
        n += 1
    return n


def sla_at_risk(*, within: dt.timedelta, now: dt.datetime | None = None, team_id=None):
    """Open tickets whose answer is due within ``within`` (or overdue), soonest first: the
    "breaches coming" list for leads. Served by the ``ticket_due`` index."""
    tickets = Ticket.objects.filter(at_risk_q(within=within, now=now))
    if team_id is not None:
        tickets = tickets.filter(team_id=team_id)
    return tickets.order_by("due_at", "pk")


# --- the out-of-hours acknowledgement ----------------------------------------------------------
AUTO_ACK_KEY = "auto-ack-{ticket_id}"  # Message.idempotency_key: unique, so once per ticket


def auto_ack_text(template: str, *, opening: dt.datetime, calendar: Calendar, language: str) -> str:
    local = opening.astimezone(calendar.tz)
    names = DAY_NAMES.get(language[:2], DAY_NAMES["en"])
    values = {
        "opening_time": f"{local.hour}:{local.minute:02d}",
        "opening_day": names[local.weekday()],
    }
    values["opening"] = f"{values['opening_day']} {values['opening_time']}"
    # Plain replacement, not str.format: the text is edited by people and must never fail or
    # reach into Python objects.
    for key, value in values.items():
        template = template.replace("{" + key + "}", value)
    return template


class AutoAcks:
    """The acknowledgement templates, loaded with one query."""

    def __init__(self, channel_ids: Iterable[int] | None) -> None:
        """``channel_ids`` None loads the templates of every channel."""
        acks = AutoAck.objects.all()
        if channel_ids is not None:
            acks = acks.filter(Q(channel__isnull=True) | Q(channel_id__in=set(channel_ids)))
        self._rows = list(acks.order_by("pk"))

    def pick(self, *, channel, language: str) -> AutoAck | None:
        """The channel's own template before the general one; the language's before any.
        The general template applies only where the connector wants acknowledgements."""
        language = (language or "")[:2]
        candidates = []
        for row in self._rows:
            if row.channel_id == channel.pk:
                own = True
            elif row.channel_id is None and channel.connector_class.auto_ack_default:
                own = False
            else:
                continue
            if row.language and row.language != language:
                continue
            candidates.append(((own, bool(row.language)), row))
        if not candidates:
            return None
        best = max(candidates, key=lambda c: c[0])[1]
        return best if best.enabled else None


def _auto_ack_rows(
    channel,
    candidates: Sequence[Ticket],
    calendars: Calendars,
    acks: AutoAcks,
    now: dt.datetime,
) -> list[dict[str, Any]]:
    """The acknowledgement message of each candidate whose team is closed now and whose channel
    has a template in its language: the template filled with the next opening."""
    rows = []
    open_now: dict[Calendar, bool] = {}  # one answer per calendar: most tickets share one
    for ticket in candidates:
        calendar = calendars.for_team(ticket.team_id)
        if calendar not in open_now:
            open_now[calendar] = is_open(calendar, now)
        if open_now[calendar]:
            continue
        template = acks.pick(channel=channel, language=ticket.language)
        if template is None:
            continue
        text = auto_ack_text(
            template.text,
            opening=next_opening(calendar, now),
            calendar=calendar,
            language=ticket.language or template.language or "en",
        )
        rows.append(
            {
                "ticket": ticket.pk,
                "channel": channel.pk,
                "text": text,
                "reply_mode": "dm" if ticket.kind == TicketKind.DM else "public",
                "idempotency_key": AUTO_ACK_KEY.format(ticket_id=ticket.pk),
            }
        )
    return rows


def auto_ack_queue(
    *,
    channel,
    tickets: Sequence[Ticket],
    inbound_ticket_ids: set[int],
    calendars: Calendars,
    now: dt.datetime,
    activities: list[Activity] | None = None,
    acks: AutoAcks | None = None,
) -> list[int]:
    """Queue an acknowledgement on each ticket that just got a customer message while its team is
    closed. Once per ticket, ever: the message's idempotency key is unique per ticket, so a
    second attempt (next message, replay, another worker) is dropped by the database.
    Returns the ids of the messages queued; they are sent after commit. Their activity rows are
    appended to ``activities`` when given (the caller saves them with its own), else saved.
    ``acks``: the templates when the caller holds them (ingest's per-worker copy), else loaded."""
    candidates = [
        t
        for t in tickets
        if t.pk in inbound_ticket_ids
        and t.status in OPEN_STATUSES
        and t.waiting_since is not None
        and t.kind != TicketKind.LISTENING
    ]
    if not candidates:
        return []
    acks = acks if acks is not None else AutoAcks([channel.pk])
    rows = _auto_ack_rows(channel, candidates, calendars, acks, now)
    if not rows:
        return []
    # Once per ticket: the partial unique index on idempotency_key refuses a second one.
    inserted = insert_rows(
        Message,
        {name: [row[name] for row in rows] for name in rows[0]},
        constants={
            "direction": Direction.OUTBOUND,
            "sent_at": now,
            "created_at": now,
            "delivery_state": DeliveryState.QUEUED,
            "delivery_changed_at": now,
            "send_options": {"auto_ack": True},
        },
        skip_any_conflict=True,
        returning=("id", "ticket"),
    )
    rows_done = [
        Activity(
            ticket_id=ticket_id,
            verb="auto_ack_queued",
            after={"message": message_id},
            created_at=now,
        )
        for message_id, ticket_id in inserted
    ]
    if activities is not None:
        activities.extend(rows_done)
    elif rows_done:
        Activity.objects.bulk_create(rows_done)
    ids = [message_id for message_id, _ in inserted]
    for message_id in ids:
        # After the ingest commit; a broker outage leaves it queued for the stalled-reply sweep.
        _send_on_commit(message_id)
    return ids


def _send_on_commit(message_id: int) -> None:
    transaction.on_commit(lambda: dispatch_send(message_id))

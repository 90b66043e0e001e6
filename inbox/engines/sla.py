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
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from inbox.ingest.bulk import insert_rows
from inbox.models import (
    OPEN_STATUSES,
    Activity,
    AutoAck,
    BusinessHours,
    DeliveryState,
    Direction,
    Message,
    SlaTarget,
    Team,
    Ticket,
    TicketKind,
)

log = logging.getLogger(__name__)
UTC = dt.UTC
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DAY_NAMES = {
    "en": ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
    "nl": ("maandag", "dinsdag", "woensdag", "donderdag", "vrijdag", "zaterdag", "zondag"),
}
# How far ahead to look before giving up: ten years (a calendar open one hour a week still
# fits a long SLA; a calendar closed for good fails instead of looping).
HORIZON_DAYS = 3660


@dataclass(frozen=True)
class Target:
    first_response: dt.timedelta
    next_response: dt.timedelta
    business_time: bool = True


DEFAULT_TARGET = Target(dt.timedelta(minutes=60), dt.timedelta(minutes=60))


def _minutes(text: str) -> int:
    hours, _, minutes = text.partition(":")
    value = int(hours) * 60 + int(minutes or 0)
    if not 0 <= value <= 24 * 60:
        raise ValueError(f"not a time of day: {text!r}")
    return value


@dataclass(frozen=True)
class Calendar:
    """Opening hours in one zone: per weekday (0 = Monday) a tuple of (open, close) minutes."""

    zone: str
    week: tuple[tuple[tuple[int, int], ...], ...]
    holidays: frozenset[dt.date] = field(default_factory=frozenset)

    @classmethod
    def build(
        cls,
        *,
        zone: str,
        week: dict[str, Sequence[Sequence[str]]],
        holidays: Iterable[dt.date] = (),
    ) -> Calendar:
        days = []
        for day in DAYS:
            intervals = []
            for start, end in week.get(day, []):
                a, b = _minutes(start), _minutes(end)
                if b > a:
                    intervals.append((a, b))
            days.append(tuple(sorted(intervals)))
        ZoneInfo(zone)  # fail early on an unknown zone
        return cls(zone=zone, week=tuple(days), holidays=frozenset(holidays))

    @cached_property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.zone)

    @property
    def always_open(self) -> bool:
        return not any(self.week)

    def intervals(self, day: dt.date) -> list[tuple[dt.datetime, dt.datetime]]:
        """The day's opening intervals as UTC instants (empty on a holiday)."""
        return list(_day_intervals(self, day))

    def intervals_from(self, at: dt.datetime) -> Iterator[tuple[dt.datetime, dt.datetime]]:
        """Opening intervals that end after ``at``, in order, within the horizon."""
        local_day = at.astimezone(self.tz).date() - dt.timedelta(days=1)
        for offset in range(HORIZON_DAYS):
            for start, end in _day_intervals(self, local_day + dt.timedelta(days=offset)):
                if end > at:
                    yield start, end


@lru_cache(maxsize=4096)
def _day_intervals(calendar: Calendar, day: dt.date) -> tuple[tuple[dt.datetime, dt.datetime], ...]:
    # Remembered per calendar and day: a batch computes due times for hundreds of tickets over
    # the same few days, and turning local times into UTC instants is most of that work.
    if day in calendar.holidays:
        return ()
    tz = calendar.tz
    out = []
    for a, b in calendar.week[day.weekday()]:
        start = _local(day, a, tz)
        end = _local(day, b, tz)
        if end > start:
            out.append((start, end))
    return tuple(out)


def _local(day: dt.date, minutes: int, tz: ZoneInfo) -> dt.datetime:
    if minutes == 24 * 60:
        day, minutes = day + dt.timedelta(days=1), 0
    naive = dt.datetime.combine(day, dt.time(minutes // 60, minutes % 60))
    return naive.replace(tzinfo=tz).astimezone(UTC)


def _utc(at: dt.datetime) -> dt.datetime:
    if timezone.is_naive(at):
        raise ValueError("business-time arithmetic needs aware datetimes")
    return at.astimezone(UTC)


def add_business_time(calendar: Calendar, start: dt.datetime, delta: dt.timedelta) -> dt.datetime:
    """The instant when ``delta`` of business time has passed after ``start`` (in UTC).

    ``delta`` zero gives the first open instant at or after ``start``.
    """
    start = _utc(start)
    if delta < dt.timedelta(0):
        raise ValueError("negative business time")
    if calendar.always_open:
        return start + delta
    remaining = delta
    for open_at, close_at in calendar.intervals_from(start):
        begin = max(open_at, start)
        available = close_at - begin
        if remaining <= available:
            return begin + remaining
        remaining -= available
    raise ValueError(f"no business hours within {HORIZON_DAYS} days of {start}")


def business_time_between(calendar: Calendar, a: dt.datetime, b: dt.datetime) -> dt.timedelta:
    """Business time from ``a`` to ``b`` (zero when ``b`` is not after ``a``)."""
    a, b = _utc(a), _utc(b)
    if b <= a:
        return dt.timedelta(0)
    if calendar.always_open:
        return b - a
    total = dt.timedelta(0)
    for open_at, close_at in calendar.intervals_from(a):
        if open_at >= b:
            break
        total += min(close_at, b) - max(open_at, a)
    return total


def is_open(calendar: Calendar, at: dt.datetime) -> bool:
    at = _utc(at)
    if calendar.always_open:
        return True
    for open_at, close_at in calendar.intervals_from(at):
        return open_at <= at < close_at
    return False


def next_opening(calendar: Calendar, at: dt.datetime) -> dt.datetime:
    """``at`` itself when open, else when the calendar opens next."""
    return add_business_time(calendar, at, dt.timedelta(0))


# --- from the database ------------------------------------------------------------------------
DEFAULT_WEEK_HOURS = {day: [["08:00", "18:00"]] for day in DAYS[:5]}


def calendar_of(hours: BusinessHours | None, team_zone: str = "") -> Calendar:
    if hours is None:
        return _default_calendar(team_zone or settings.TIME_ZONE)
    return Calendar.build(
        zone=hours.time_zone or team_zone or settings.TIME_ZONE,
        week=hours.week or {},
        holidays=[h.date for h in hours.holidays.all()],
    )


@lru_cache(maxsize=64)
def _default_calendar(zone: str) -> Calendar:
    return Calendar.build(zone=zone, week=DEFAULT_WEEK_HOURS)


class Calendars:
    """The calendars tickets need, loaded with two queries (hours and their holidays), or
    three when teams without hours of their own need their zone.

    ``team_ids`` None loads every team's: the copy ingest keeps (``inbox.engines.engine_config``).
    """

    def __init__(self, team_ids: Iterable[int | None] | None) -> None:
        hours = BusinessHours.objects.all()
        wanted: set[int] | None = None
        if team_ids is not None:
            wanted = {t for t in team_ids if t is not None}
            # The teams' own rows and the default row.
            hours = hours.filter(Q(team__isnull=True) | Q(team_id__in=wanted))
        rows = list(hours.select_related("team").prefetch_related("holidays").order_by("pk"))
        self._by_team: dict[int, BusinessHours] = {}
        self._default: BusinessHours | None = None
        for row in rows:
            if row.team_id is None:
                self._default = self._default or row
            else:
                self._by_team[row.team_id] = row
        # Teams without hours of their own still have a time zone.
        self._zones: dict[int, str] = {}
        if self._default is None and wanted is None:
            teams = Team.objects.exclude(pk__in=list(self._by_team))
            self._zones = dict(teams.values_list("pk", "time_zone"))
        elif self._default is None and wanted - set(self._by_team):
            teams = Team.objects.filter(pk__in=wanted - set(self._by_team))
            self._zones = dict(teams.values_list("pk", "time_zone"))
        self._cache: dict[int | None, Calendar] = {}

    def for_team(self, team_id: int | None) -> Calendar:
        if team_id not in self._cache:
            own = self._by_team.get(team_id) if team_id is not None else None
            if own is not None:
                calendar = calendar_of(own, own.team.time_zone if own.team else "")
            elif self._default is not None:
                calendar = calendar_of(self._default)
            else:
                calendar = calendar_of(None, self._zones.get(team_id, ""))
            self._cache[team_id] = calendar
        return self._cache[team_id]


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


def at_risk_q(*, within: dt.timedelta, now: dt.datetime | None = None) -> Q:
    """Open tickets due within ``within`` of ``now``, or overdue: shared by :func:`sla_at_risk`
    and the inbox's "At risk" view, so both mean the same."""
    now = now or timezone.now()
    return Q(status__in=OPEN_STATUSES, due_at__isnull=False, due_at__lte=now + within)


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
    from channels.tasks import dispatch_send

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
        transaction.on_commit(lambda pk=message_id: dispatch_send(pk))
    return ids

"""Business-time arithmetic: opening hours as wall-clock intervals in a calendar's zone, holidays,
adding business time and measuring it across nights, weekends and DST changes."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from inbox.models import (
    BusinessHours,
    Team,
)

UTC = dt.UTC


DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


DAY_NAMES = {
    "en": ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
    "nl": ("maandag", "dinsdag", "woensdag", "donderdag", "vrijdag", "zaterdag", "zondag"),
}


# How far ahead to look before giving up: ten years (a calendar open one hour a week still
# fits a long SLA; a calendar closed for good fails instead of looping).
HORIZON_DAYS = 3660


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
        week: Mapping[str, Sequence[Sequence[str]]],
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


def next_reopening(calendar: Calendar, at: dt.datetime) -> dt.datetime:
    """When the calendar next opens after it has been closed: ``next_opening`` when closed at
    ``at``; when open, the first opening after the current stretch of hours ends. What an
    out-of-hours acknowledgement previewed during opening hours announces (the message is
    only sent while closed, so "now" would never be what a customer reads)."""
    at = _utc(at)
    if calendar.always_open or not is_open(calendar, at):
        return next_opening(calendar, at)
    end = at
    for open_at, close_at in calendar.intervals_from(at):
        if open_at > end:  # a gap: closed from ``end`` until this interval opens
            return open_at
        end = max(end, close_at)
    raise ValueError(f"no business hours within {HORIZON_DAYS} days of {at}")


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
        elif self._default is None and wanted is not None and wanted - set(self._by_team):
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
                zone = self._zones.get(team_id, "") if team_id is not None else ""
                calendar = calendar_of(None, zone)
            self._cache[team_id] = calendar
        return self._cache[team_id]

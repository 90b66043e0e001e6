"""Services for the hours-and-SLA page: business hours and holidays, SLA targets and
out-of-hours acknowledgements. Each validates, changes one thing and writes one audit row with
before and after.

Nothing to invalidate after a change: the ingest engines (``inbox.core.business_time.Calendars``,
``Targets``,
``AutoAcks``) read these rows afresh for every batch, and the only cached calendar
(``inbox.core.business_time._default_calendar``) is built from constants, never from the
database.
"""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo
from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from channels.models import Channel
from inbox.audit.services import activity_log, audited_delete
from inbox.core.business_time import DAYS
from inbox.models import AutoAck, BusinessHours, Holiday, SlaTarget, Team

_TIME = re.compile(r"^(\d{1,2}):(\d{2})$")
_INTERVAL = re.compile(r"^\s*(\S+)\s*[-–]\s*(\S+)\s*$")


def _minutes_of(text: str) -> int | None:
    match = _TIME.match(text)
    if not match:
        return None
    hours, minutes = int(match[1]), int(match[2])
    if minutes > 59 or hours > 24 or (hours == 24 and minutes):
        return None
    return hours * 60 + minutes


def _hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def week_parse(texts: dict[str, str]) -> dict[str, list[list[str]]]:
    """Per weekday ("mon".."sun") a text like "08:00-12:00, 13:00-17:30" (empty: closed) into
    the ``BusinessHours.week`` shape. Raises ``ValidationError`` keyed by day for a bad time, an
    end not after its start, or intervals that overlap."""
    week: dict[str, list[list[str]]] = {}
    errors: dict[str, str] = {}
    for day in DAYS:
        parts = [p for p in re.split(r"[,;\n]", texts.get(day) or "") if p.strip()]
        intervals = []
        for part in parts:
            match = _INTERVAL.match(part)
            start = _minutes_of(match[1]) if match else None
            end = _minutes_of(match[2]) if match else None
            if start is None or end is None or start == 24 * 60:
                errors[day] = _("Write times as 08:00-17:30, separated by commas.")
                break
            if end <= start:
                errors[day] = _("%(interval)s ends before it starts.") % {"interval": part.strip()}
                break
            intervals.append((start, end))
        else:
            intervals.sort()
            for (s1, e1), (s2, e2) in zip(intervals, intervals[1:], strict=False):
                if s2 < e1:
                    errors[day] = _("Intervals overlap: %(a)s and %(b)s.") % {
                        "a": f"{_hhmm(s1)}-{_hhmm(e1)}",
                        "b": f"{_hhmm(s2)}-{_hhmm(e2)}",
                    }
                    break
            if intervals:
                week[day] = [[_hhmm(a), _hhmm(b)] for a, b in intervals]
    if errors:
        raise ValidationError(errors)
    return week


def week_format(week: dict[str, list[list[str]]] | None) -> dict[str, str]:
    """The inverse of :func:`week_parse`, for the form."""
    week = week or {}
    return {day: ", ".join(f"{a}-{b}" for a, b in week.get(day, [])) for day in DAYS}


def _check_zone(time_zone: str) -> None:
    if time_zone and time_zone not in zoneinfo.available_timezones():
        raise ValidationError(
            {"time_zone": _("Unknown time zone: %(zone)s.") % {"zone": time_zone}}
        )


def hours_row(team: Team | None) -> BusinessHours | None:
    """The calendar row of ``team`` (None: the default row, the oldest without a team)."""
    if team is not None:
        return BusinessHours.objects.filter(team=team).first()
    return BusinessHours.objects.filter(team__isnull=True).order_by("pk").first()


def _hours_snapshot(hours: BusinessHours | None, team: Team | None) -> dict[str, Any]:
    if hours is None:
        return {"team": team.pk if team else None}
    return {"team": hours.team_id, "time_zone": hours.time_zone, "week": hours.week}


def _row_for_update(team: Team | None) -> BusinessHours:
    """The team's own row, locked; made when missing, starting from the hours it used so far
    (the default row's, else Monday–Friday 08:00–18:00) so a holiday alone changes nothing else.
    """
    row = (
        BusinessHours.objects.select_for_update().filter(team=team).first()
        if team is not None
        else BusinessHours.objects.select_for_update()
        .filter(team__isnull=True)
        .order_by("pk")
        .first()
    )
    if row is not None:
        return row
    default = hours_row(None) if team is not None else None
    if default is not None:
        return BusinessHours.objects.create(
            team=team, time_zone=default.time_zone, week=default.week
        )
    return BusinessHours.objects.create(team=team)


def hours_save(
    *,
    actor: User | None,
    team: Team | None,
    time_zone: str,
    week: dict[str, list[list[str]]],
) -> BusinessHours:
    """Set a team's (or the default) weekly hours and time zone (blank: the team's zone)."""
    _check_zone(time_zone)
    week = week_parse(week_format(week))  # validates the shape a caller passed in
    with transaction.atomic():
        existed = hours_row(team)
        before = _hours_snapshot(existed, team)
        hours = _row_for_update(team)
        hours.time_zone, hours.week = time_zone, week
        hours.save(update_fields=["time_zone", "week"])
        activity_log(
            ticket=None,
            actor=actor,
            verb="hours_updated",
            before=before,
            after=_hours_snapshot(hours, team),
        )
    return hours


def holiday_add(*, actor: User | None, team: Team | None, date: dt.date, name: str = "") -> Holiday:
    with transaction.atomic():
        hours = _row_for_update(team)
        if hours.holidays.filter(date=date).exists():
            raise ValidationError({"date": _("That day is already a holiday.")})
        try:
            with transaction.atomic():
                holiday = Holiday.objects.create(hours=hours, date=date, name=name.strip())
        except IntegrityError as exc:  # the same day added at the same moment
            raise ValidationError({"date": _("That day is already a holiday.")}) from exc
        activity_log(
            ticket=None,
            actor=actor,
            verb="holiday_added",
            after={"team": hours.team_id, "date": date.isoformat(), "name": holiday.name},
        )
    return holiday


def holiday_remove(*, actor: User | None, holiday: Holiday) -> None:
    before = {
        "team": holiday.hours.team_id,
        "date": holiday.date.isoformat(),
        "name": holiday.name,
    }
    audited_delete(actor=actor, row=holiday, before=before, verb="holiday_removed")


# --- SLA targets ------------------------------------------------------------------------------
def _target_snapshot(target: SlaTarget) -> dict[str, Any]:
    return {
        "sla_target": target.pk,
        "channel": target.channel_id,
        "min_priority": target.min_priority,
        "first_response_minutes": target.first_response_minutes,
        "next_response_minutes": target.next_response_minutes,
        "business_time": target.business_time,
    }


def sla_target_save(
    *,
    actor: User | None,
    target: SlaTarget | None = None,
    channel: Channel | None,
    min_priority: int,
    first_response_minutes: int,
    next_response_minutes: int,
    business_time: bool,
) -> SlaTarget:
    """Create (``target`` None) or change an SLA target."""
    errors = {}
    for name, value in (
        ("first_response_minutes", first_response_minutes),
        ("next_response_minutes", next_response_minutes),
    ):
        if not 1 <= value <= 60 * 24 * 30:
            errors[name] = _("Between 1 minute and 30 days.")
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        if target is None:
            before, verb = {}, "sla_target_created"
            target = SlaTarget()
        else:
            target = SlaTarget.objects.select_for_update().get(pk=target.pk)
            before, verb = _target_snapshot(target), "sla_target_updated"
        target.channel = channel
        target.min_priority = min_priority
        target.first_response_minutes = first_response_minutes
        target.next_response_minutes = next_response_minutes
        target.business_time = business_time
        target.save()
        activity_log(
            ticket=None, actor=actor, verb=verb, before=before, after=_target_snapshot(target)
        )
    return target


def sla_target_delete(*, actor: User | None, target: SlaTarget) -> None:
    audited_delete(
        actor=actor, row=target, before=_target_snapshot(target), verb="sla_target_deleted"
    )


# --- out-of-hours acknowledgements ------------------------------------------------------------
def _ack_snapshot(ack: AutoAck) -> dict[str, Any]:
    return {
        "auto_ack": ack.pk,
        "channel": ack.channel_id,
        "language": ack.language,
        "text": ack.text,
        "enabled": ack.enabled,
    }


def auto_ack_save(
    *,
    actor: User | None,
    ack: AutoAck | None = None,
    channel: Channel | None,
    language: str,
    text: str,
    enabled: bool,
) -> AutoAck:
    """Create (``ack`` None) or change an out-of-hours acknowledgement."""
    text = text.strip()
    language = language.strip().lower()
    errors = {}
    if not text:
        errors["text"] = _("The acknowledgement needs a text.")
    if language and not re.fullmatch(r"[a-z]{2,3}", language):
        errors["language"] = _("A language code such as nl or en, or empty for any.")
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        if ack is None:
            before, verb = {}, "auto_ack_created"
            ack = AutoAck()
        else:
            ack = AutoAck.objects.select_for_update().get(pk=ack.pk)
            before, verb = _ack_snapshot(ack), "auto_ack_updated"
        ack.channel, ack.language, ack.text, ack.enabled = channel, language, text, enabled
        ack.save()
        activity_log(ticket=None, actor=actor, verb=verb, before=before, after=_ack_snapshot(ack))
    return ack


def auto_ack_delete(*, actor: User | None, ack: AutoAck) -> None:
    audited_delete(actor=actor, row=ack, before=_ack_snapshot(ack), verb="auto_ack_deleted")

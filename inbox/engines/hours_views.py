"""Business hours and holidays per team (and the default), SLA targets and out-of-hours
acknowledgements.

Leads and admins edit all of them (the hours of every team: out-of-hours cover is planned
across teams); agents get 403. Every change goes through a service in ``inbox.engines.hours``, which
validates and writes the audit row with before and after; the ingest engines read the rows
afresh for every batch, so the next ticket sees a change.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from typing import cast

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from channels.models import Channel
from inbox.core.business_time import (
    DAYS,
    DEFAULT_WEEK_HOURS,
    Calendar,
    Calendars,
    is_open,
    next_opening,
    next_reopening,
)
from inbox.core.decorators import lead_required
from inbox.engines import hours as services
from inbox.engines.sla import auto_ack_text
from inbox.models import AutoAck, BusinessHours, Holiday, SlaTarget, Team
from webcare.http import AuthedRequest
from webcare.redirects import safe_target

DAY_LABELS = dict(
    zip(
        DAYS,
        [
            gettext_lazy("Monday"),
            gettext_lazy("Tuesday"),
            gettext_lazy("Wednesday"),
            gettext_lazy("Thursday"),
            gettext_lazy("Friday"),
            gettext_lazy("Saturday"),
            gettext_lazy("Sunday"),
        ],
        strict=True,
    )
)
PLACEHOLDERS = ("{opening_time}", "{opening_day}", "{opening}")


def _zones() -> list[tuple[str, str]]:
    return [(z, z) for z in sorted(zoneinfo.available_timezones())]


def _apply_errors(form: forms.Form, exc: ValidationError) -> None:
    for name, errors in exc.message_dict.items():
        form.add_error(name if name in form.fields else None, errors)


# --- forms ------------------------------------------------------------------------------------
class HoursForm(forms.Form):
    """Time zone and one text per weekday: "08:00-12:00, 13:00-17:30", empty for closed."""

    time_zone = forms.ChoiceField(label=gettext_lazy("Time zone"), required=False)

    def __init__(self, *args, team: Team | None = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        blank = (
            _("The team's time zone (%(zone)s)") % {"zone": team.time_zone}
            if team
            else _("The site's time zone (%(zone)s)") % {"zone": settings.TIME_ZONE}
        )
        cast(forms.ChoiceField, self.fields["time_zone"]).choices = [("", blank), *_zones()]
        for day in DAYS:
            self.fields[day] = forms.CharField(
                label=DAY_LABELS[day],
                required=False,
                max_length=200,
                widget=forms.TextInput(attrs={"placeholder": _("closed")}),
            )

    def texts(self) -> dict[str, str]:
        return {day: self.cleaned_data[day] for day in DAYS}


class HolidayForm(forms.Form):
    date = forms.DateField(
        label=gettext_lazy("Date"), widget=forms.DateInput(attrs={"type": "date"})
    )
    name = forms.CharField(label=gettext_lazy("Name"), max_length=100, required=False)


class SlaTargetForm(forms.Form):
    channel = forms.ModelChoiceField(
        label=gettext_lazy("Channel"),
        queryset=Channel.objects.order_by("name"),
        required=False,
        empty_label=gettext_lazy("Any channel"),
    )
    min_priority = forms.IntegerField(
        label=gettext_lazy("From priority"),
        initial=0,
        min_value=-1000,
        max_value=1000,
        help_text=gettext_lazy(
            "Applies to tickets whose priority (without waiting time) reaches this."
        ),
    )
    first_response_minutes = forms.IntegerField(
        label=gettext_lazy("First response within (minutes)"), initial=60
    )
    next_response_minutes = forms.IntegerField(
        label=gettext_lazy("Next response within (minutes)"), initial=60
    )
    business_time = forms.TypedChoiceField(
        label=gettext_lazy("Counted in"),
        choices=[
            ("1", gettext_lazy("business hours")),
            ("0", gettext_lazy("clock time (24/7)")),
        ],
        coerce=lambda v: v == "1",
        initial="1",
    )


class AutoAckForm(forms.Form):
    channel = forms.ModelChoiceField(
        label=gettext_lazy("Channel"),
        queryset=Channel.objects.order_by("name"),
        required=False,
        empty_label=gettext_lazy("Any channel (not review sites)"),
    )
    language = forms.CharField(
        label=gettext_lazy("Language"),
        max_length=8,
        required=False,
        help_text=gettext_lazy("nl, en …; empty: any language."),
    )
    text = forms.CharField(
        label=gettext_lazy("Text"),
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=2000,
        required=False,
        help_text=gettext_lazy(
            "{opening_time} becomes 8:00, {opening_day} Monday, {opening} Monday 8:00."
        ),
    )
    enabled = forms.BooleanField(
        label=gettext_lazy("Enabled"),
        required=False,
        help_text=gettext_lazy(
            "A review site gets an acknowledgement only through an enabled row for it; a "
            "disabled row for a channel silences it there."
        ),
    )


# --- what the pages show ----------------------------------------------------------------------
def _local(at: dt.datetime, calendar: Calendar) -> dt.datetime:
    """A naive local time in the calendar's zone: shown as the team reads its hours."""
    return at.astimezone(calendar.tz).replace(tzinfo=None)


def _calendar_state(calendar: Calendar, now: dt.datetime) -> dict:
    try:
        opening = next_opening(calendar, now)
    except ValueError:  # no opening within the horizon (every day a holiday)
        return {"open_now": False, "next_opening": None, "zone": calendar.zone}
    return {
        "open_now": is_open(calendar, now),
        "next_opening": _local(opening, calendar),
        "zone": calendar.zone,
    }


def _week_lines(week: dict | None) -> list[str]:
    texts = services.week_format(week)
    return [f"{DAY_LABELS[d]} {texts[d]}" for d in DAYS if texts[d]]


def ack_sample(text: str, language: str, calendar: Calendar, now: dt.datetime) -> str:
    """The acknowledgement as a customer writing now would read it under ``calendar``: during
    opening hours, as it will be sent once closed (announcing the opening after that)."""
    try:
        opening = next_reopening(calendar, now)
    except ValueError:
        return text
    return auto_ack_text(text, opening=opening, calendar=calendar, language=language or "en")


@require_GET
@lead_required
def overview(request: AuthedRequest) -> HttpResponse:
    """Each team's hours (own or the default), open now and next opening; the SLA targets;
    the acknowledgements as they would be sent now. A constant number of queries."""
    now = timezone.now()
    teams = list(Team.objects.order_by("name"))
    calendars = Calendars([t.pk for t in teams])
    rows = list(BusinessHours.objects.prefetch_related("holidays").order_by("pk"))
    # The oldest row without a team is the default, as the engine picks it.
    default_row = next((r for r in rows if r.team_id is None), None)
    rows_by_team = {r.team_id: r for r in rows if r.team_id is not None}
    calendars_rows = [
        {
            "label": _("Default (teams without their own hours)"),
            "url_name": "pages:hours_default",
            "team": None,
            "own": default_row is not None,
            "week": _week_lines(default_row.week if default_row else DEFAULT_WEEK_HOURS),
            "holidays": len(default_row.holidays.all()) if default_row else 0,
            **_calendar_state(calendars.for_team(None), now),
        }
    ]
    for team in teams:
        own = rows_by_team.get(team.pk)
        shown = own or default_row
        calendars_rows.append(
            {
                "label": team.name,
                "team": team,
                "own": own is not None,
                "week": _week_lines(shown.week if shown else DEFAULT_WEEK_HOURS),
                "holidays": len(own.holidays.all()) if own else 0,
                **_calendar_state(calendars.for_team(team.pk), now),
            }
        )
    default_calendar = calendars.for_team(None)
    # Each auto-acknowledgement with a sample of the text it sends now.
    acks = [
        (ack, ack_sample(ack.text, ack.language, default_calendar, now))
        for ack in AutoAck.objects.select_related("channel").order_by("pk")
    ]
    return render(
        request,
        "inbox/engines/hours/hours.html",
        {
            "calendars": calendars_rows,
            "targets": list(
                SlaTarget.objects.select_related("channel").order_by("channel_id", "-min_priority")
            ),
            "acks": acks,
            "default_open": is_open(default_calendar, now),
        },
    )


# --- a calendar -------------------------------------------------------------------------------
def _calendar_page(request: AuthedRequest, team: Team | None) -> HttpResponse:
    row = services.hours_row(team)
    # A team without its own row follows the default until it gets one: start from that.
    row_shown = row if row is not None or team is None else services.hours_row(None)
    initial = {
        "time_zone": row_shown.time_zone if row_shown else "",
        **services.week_format(row_shown.week if row_shown else DEFAULT_WEEK_HOURS),
    }
    hours_form = HoursForm(initial=initial, team=team)
    holiday_form = HolidayForm()
    status = 200
    if request.method == "POST":
        if request.POST.get("form") == "holiday":
            holiday_form = HolidayForm(request.POST)
            if holiday_form.is_valid():
                try:
                    services.holiday_add(actor=request.user, team=team, **holiday_form.cleaned_data)
                except ValidationError as exc:
                    _apply_errors(holiday_form, exc)
                else:
                    messages.success(request, _("Holiday added."))
                    return redirect(safe_target(request, request.path, fallback="pages:hours"))
        else:
            hours_form = HoursForm(request.POST, team=team)
            if hours_form.is_valid():
                try:
                    services.hours_save(
                        actor=request.user,
                        team=team,
                        time_zone=hours_form.cleaned_data["time_zone"],
                        week=services.week_parse(hours_form.texts()),
                    )
                except ValidationError as exc:
                    _apply_errors(hours_form, exc)
                else:
                    messages.success(request, _("Business hours saved."))
                    return redirect(safe_target(request, request.path, fallback="pages:hours"))
        status = 400
    calendar = Calendars([team.pk] if team else []).for_team(team.pk if team else None)
    return render(
        request,
        "inbox/engines/hours/calendar.html",
        {
            "team": team,
            "own": row is not None,
            "hours_form": hours_form,
            "holiday_form": holiday_form,
            "holidays": list(row.holidays.all()) if row else [],
            **_calendar_state(calendar, timezone.now()),
        },
        status=status,
    )


@never_cache
@require_http_methods(["GET", "POST"])
@lead_required
def calendar_default(request: AuthedRequest) -> HttpResponse:
    return _calendar_page(request, None)


@never_cache
@require_http_methods(["GET", "POST"])
@lead_required
def calendar_team(request: AuthedRequest, team_id: int) -> HttpResponse:
    return _calendar_page(request, get_object_or_404(Team, pk=team_id))


@require_POST
@lead_required
def holiday_delete(request: AuthedRequest, holiday_id: int) -> HttpResponse:
    holiday = get_object_or_404(Holiday.objects.select_related("hours"), pk=holiday_id)
    team_id = holiday.hours.team_id
    services.holiday_remove(actor=request.user, holiday=holiday)
    messages.success(request, _("Holiday removed."))
    if team_id:
        return redirect("pages:hours_team", team_id=team_id)
    return redirect("pages:hours_default")


# --- SLA targets ------------------------------------------------------------------------------
def _target_page(request: AuthedRequest, target: SlaTarget | None) -> HttpResponse:
    initial = (
        {
            "channel": target.channel_id,
            "min_priority": target.min_priority,
            "first_response_minutes": target.first_response_minutes,
            "next_response_minutes": target.next_response_minutes,
            "business_time": "1" if target.business_time else "0",
        }
        if target
        else None
    )
    form = SlaTargetForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.sla_target_save(actor=request.user, target=target, **form.cleaned_data)
        except ValidationError as exc:
            _apply_errors(form, exc)
        else:
            messages.success(request, _("SLA target saved."))
            return redirect("pages:hours")
    return render(
        request,
        "inbox/engines/hours/target_form.html",
        {"form": form, "target": target},
        status=400 if form.errors else 200,
    )


@never_cache
@require_http_methods(["GET", "POST"])
@lead_required
def target_new(request: AuthedRequest) -> HttpResponse:
    return _target_page(request, None)


@never_cache
@require_http_methods(["GET", "POST"])
@lead_required
def target_edit(request: AuthedRequest, target_id: int) -> HttpResponse:
    return _target_page(request, get_object_or_404(SlaTarget, pk=target_id))


@require_POST
@lead_required
def target_delete(request: AuthedRequest, target_id: int) -> HttpResponse:
    services.sla_target_delete(
        actor=request.user, target=get_object_or_404(SlaTarget, pk=target_id)
    )
    messages.success(request, _("SLA target deleted."))
    return redirect("pages:hours")


# --- acknowledgements -------------------------------------------------------------------------
def _ack_page(request: AuthedRequest, ack: AutoAck | None) -> HttpResponse:
    initial = (
        {
            "channel": ack.channel_id,
            "language": ack.language,
            "text": ack.text,
            "enabled": ack.enabled,
        }
        if ack
        else {"enabled": True}
    )
    form = AutoAckForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.auto_ack_save(actor=request.user, ack=ack, **form.cleaned_data)
        except ValidationError as exc:
            _apply_errors(form, exc)
        else:
            messages.success(request, _("Acknowledgement saved."))
            return redirect("pages:hours")
    text = form["text"].value() or ""
    language = form["language"].value() or ""
    return render(
        request,
        "inbox/engines/hours/ack_form.html",
        {"form": form, "ack": ack, **_sample_context(text, language)},
        status=400 if form.errors else 200,
    )


def _sample_context(text: str, language: str) -> dict:
    now = timezone.now()
    calendar = Calendars([]).for_team(None)
    return {
        "sample": ack_sample(text, language, calendar, now),
        "open_now": is_open(calendar, now),
        "placeholders": PLACEHOLDERS,
    }


@never_cache
@require_http_methods(["GET", "POST"])
@lead_required
def ack_new(request: AuthedRequest) -> HttpResponse:
    return _ack_page(request, None)


@never_cache
@require_http_methods(["GET", "POST"])
@lead_required
def ack_edit(request: AuthedRequest, ack_id: int) -> HttpResponse:
    return _ack_page(request, get_object_or_404(AutoAck, pk=ack_id))


@require_GET
@lead_required
def ack_preview(request: AuthedRequest) -> HttpResponse:
    """The text as it would be sent now (default hours), for the live preview beside the form."""
    context = _sample_context(request.GET.get("text", "")[:2000], request.GET.get("language", ""))
    return render(request, "inbox/engines/hours/ack_form.html#sample", context)


@require_POST
@lead_required
def ack_delete(request: AuthedRequest, ack_id: int) -> HttpResponse:
    services.auto_ack_delete(actor=request.user, ack=get_object_or_404(AutoAck, pk=ack_id))
    messages.success(request, _("Acknowledgement deleted."))
    return redirect("pages:hours")


urlpatterns = [
    path("", overview, name="hours"),
    path("default/", calendar_default, name="hours_default"),
    path("teams/<int:team_id>/", calendar_team, name="hours_team"),
    path("holidays/<int:holiday_id>/delete/", holiday_delete, name="hours_holiday_delete"),
    path("sla/new/", target_new, name="hours_sla_new"),
    path("sla/<int:target_id>/", target_edit, name="hours_sla_edit"),
    path("sla/<int:target_id>/delete/", target_delete, name="hours_sla_delete"),
    path("acks/new/", ack_new, name="hours_ack_new"),
    path("acks/preview/", ack_preview, name="hours_ack_preview"),
    path("acks/<int:ack_id>/", ack_edit, name="hours_ack_edit"),
    path("acks/<int:ack_id>/delete/", ack_delete, name="hours_ack_delete"),
]

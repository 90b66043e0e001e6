"""Teams: their members, time zone, assignment mode and capacity caps, the members' shifts and
availability, and each team's load.

Who may do what: leads and admins see the team list and each team's page with its load;
admins create teams and change their name, members and time zone; a team's settings, its
members' shifts and whether they are available: admins for every team, leads for the teams
they are in. Every change goes through a service in ``inbox.people.services`` (or
``inbox.engines.assignment``), which writes the audit row. Users and roles: ``inbox.people.views``.
"""

from __future__ import annotations

import zoneinfo
from collections.abc import Set as AbstractSet
from typing import cast

from django import forms
from django.contrib import messages
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from inbox.core import access
from inbox.core.decorators import admin_required, lead_required
from inbox.core.forms import PersonChoiceField, person_label
from inbox.engines.assignment import AUTO, MANUAL, agent_loads, agent_set_available
from inbox.models import OPEN_STATUSES, AgentProfile, Shift, Team, Ticket
from inbox.people import services as people
from inbox.tickets.services import ActionError
from webcare.http import AuthedRequest

MODE_CHOICES = [
    (MANUAL, gettext_lazy("Manual: leads and agents pick tickets")),
    (AUTO, gettext_lazy("Automatic: fair assignment to available agents")),
]
WEEKDAYS = [
    (0, gettext_lazy("Monday")),
    (1, gettext_lazy("Tuesday")),
    (2, gettext_lazy("Wednesday")),
    (3, gettext_lazy("Thursday")),
    (4, gettext_lazy("Friday")),
    (5, gettext_lazy("Saturday")),
    (6, gettext_lazy("Sunday")),
]
# The queue size shown per team is counted up to this many: beyond it, "1000+" says enough and
# the count stays cheap however long the queue.
QUEUE_COUNT_CAP = 1000


# --- forms ------------------------------------------------------------------------------------
class _MembersField(forms.ModelMultipleChoiceField):
    """Team members, a deactivated one marked as such."""

    def label_from_instance(self, obj: User) -> str:
        name = person_label(obj)
        return name if obj.is_active else _("%(name)s (deactivated)") % {"name": name}


class TeamForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Name"), max_length=100)
    time_zone = forms.ChoiceField(label=gettext_lazy("Time zone"))
    members = _MembersField(
        label=gettext_lazy("Members"),
        # Deactivated users stay listed (marked), so saving the form keeps them in the team.
        queryset=User.objects.order_by("-is_active", "first_name", "username"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    assignment = forms.ChoiceField(label=gettext_lazy("Assignment"), choices=MODE_CHOICES)

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["time_zone"]).choices = [
            (z, z) for z in sorted(zoneinfo.available_timezones())
        ]


class TeamSettingsForm(forms.Form):
    """Assignment mode, and per member a capacity field (``capacity_<user id>``) and whether
    their replies wait for a lead's approval (``review_<user id>``: four-eyes review, for
    trainees)."""

    assignment = forms.ChoiceField(label=gettext_lazy("Assignment"), choices=MODE_CHOICES)

    def __init__(self, *args, loads=(), reviewed: AbstractSet[int] = frozenset(), **kwargs) -> None:
        super().__init__(*args, **kwargs)
        for load in loads:
            self.fields[f"capacity_{load.user_id}"] = forms.IntegerField(
                label=load.name, min_value=0, max_value=1000, initial=load.capacity
            )
            self.fields[f"review_{load.user_id}"] = forms.BooleanField(
                label=_("%(name)s: replies wait for a lead's approval") % {"name": load.name},
                required=False,
                initial=load.user_id in reviewed,
            )

    def approvals(self) -> dict[int, bool]:
        return {
            int(name.removeprefix("review_")): bool(value)
            for name, value in self.cleaned_data.items()
            if name.startswith("review_")
        }

    def capacities(self) -> dict[int, int]:
        return {
            int(name.removeprefix("capacity_")): value
            for name, value in self.cleaned_data.items()
            if name.startswith("capacity_")
        }


class ShiftForm(forms.Form):
    user = PersonChoiceField(label=gettext_lazy("Agent"), queryset=User.objects.none())
    weekday = forms.TypedChoiceField(label=gettext_lazy("Day"), choices=WEEKDAYS, coerce=int)
    start = forms.TimeField(
        label=gettext_lazy("From"), widget=forms.TimeInput(attrs={"type": "time"})
    )
    end = forms.TimeField(label=gettext_lazy("To"), widget=forms.TimeInput(attrs={"type": "time"}))

    def __init__(self, *args, team: Team, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ModelChoiceField, self.fields["user"]).queryset = team.members.filter(
            is_active=True
        ).order_by("first_name", "username")


# --- helpers ----------------------------------------------------------------------------------
def _reviewed(loads) -> set[int]:
    """The members whose replies wait for a lead's approval."""
    return set(
        AgentProfile.objects.filter(
            user_id__in=[a.user_id for a in loads], needs_approval=True
        ).values_list("user_id", flat=True)
    )


def _require_team_lead(request: HttpRequest, team: Team) -> None:
    if not access.can_lead_team(request.user, team.pk):
        raise PermissionDenied(_("Only admins and this team's leads may change it."))


def queue_size(team: Team) -> str:
    """Open, unassigned tickets of the team: exact up to the cap, then "1000+"."""
    n = (
        Ticket.objects.filter(team=team, assignee__isnull=True, status__in=OPEN_STATUSES)
        .values("pk")[: QUEUE_COUNT_CAP + 1]
        .count()
    )
    return f"{QUEUE_COUNT_CAP}+" if n > QUEUE_COUNT_CAP else str(n)


# --- teams ------------------------------------------------------------------------------------
@require_GET
@lead_required
def team_list(request: AuthedRequest) -> HttpResponse:
    """Teams with their members and queue. The queue is one capped count per team (bounded
    however long the queues are; a grouped count would read every unassigned open ticket)."""
    teams = list(Team.objects.order_by("name").annotate(n_members=Count("members", distinct=True)))
    mine = set(access.team_ids(request.user))
    # Each team with its queue and whether the reader is in it.
    rows = [(team, queue_size(team), team.pk in mine) for team in teams]
    return render(
        request,
        "inbox/people/teams.html",
        {"teams": rows, "can_edit": access.can_configure(request.user)},
    )


@require_GET
@lead_required
def team_detail(request: AuthedRequest, team_id: int) -> HttpResponse:
    """The team's load (each agent's open tickets, capacity, available, on shift; the queue)
    and, for its leads and admins, its settings and shifts."""
    team = get_object_or_404(Team, pk=team_id)
    return render(request, "inbox/people/team.html", _team_context(request, team))


def _team_context(request: AuthedRequest, team: Team, **forms_: forms.Form) -> dict:
    loads = agent_loads(team=team)
    may_edit = access.can_lead_team(request.user, team.pk)
    # Each agent's shifts, each with its day's name.
    shifts: dict[int, list[tuple[Shift, str]]] = {}
    days = dict(WEEKDAYS)
    for shift in Shift.objects.filter(user_id__in=[a.user_id for a in loads]):
        day = str(days.get(shift.weekday, shift.weekday))
        shifts.setdefault(shift.user_id, []).append((shift, day))
    rows = [{"load": a, "shifts": shifts.get(a.user_id, [])} for a in loads]
    return {
        "team": team,
        "rows": rows,
        "queue": queue_size(team),
        "may_edit": may_edit,
        "is_admin": access.can_configure(request.user),
        "settings_form": forms_.get("settings_form")
        or TeamSettingsForm(
            initial={"assignment": team.assignment}, loads=loads, reviewed=_reviewed(loads)
        ),
        "shift_form": forms_.get("shift_form") or ShiftForm(team=team),
    }


@never_cache
@require_http_methods(["GET", "POST"])
@admin_required
def team_new(request: AuthedRequest) -> HttpResponse:
    form = TeamForm(
        request.POST or None, initial={"time_zone": "Europe/Amsterdam", "assignment": MANUAL}
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            team = people.team_create(
                actor=request.user,
                name=data["name"],
                members=data["members"],
                assignment=data["assignment"],
                time_zone=data["time_zone"],
            )
        except ActionError as exc:
            form.add_error("name", exc.message)
        else:
            messages.success(request, _("Team created."))
            return redirect("pages:people_team", team_id=team.pk)
    return render(request, "inbox/people/team_form.html", {"form": form})


@never_cache
@require_http_methods(["GET", "POST"])
@admin_required
def team_edit(request: AuthedRequest, team_id: int) -> HttpResponse:
    team = get_object_or_404(Team, pk=team_id)
    form = TeamForm(
        request.POST or None,
        initial={
            "name": team.name,
            "time_zone": team.time_zone,
            "members": list(team.members.all()),
            "assignment": team.assignment,
        },
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            people.team_update(
                actor=request.user,
                team=team,
                name=data["name"],
                members=data["members"],
                time_zone=data["time_zone"],
            )
            team.refresh_from_db()
            if data["assignment"] != team.assignment:
                people.team_settings_update(
                    actor=request.user, team=team, assignment=data["assignment"], capacities={}
                )
        except ActionError as exc:
            form.add_error("name", exc.message)
        else:
            messages.success(request, _("Team saved."))
            return redirect("pages:people_team", team_id=team.pk)
    return render(request, "inbox/people/team_form.html", {"form": form, "team": team})


@require_POST
@lead_required
def team_settings(request: AuthedRequest, team_id: int) -> HttpResponse:
    team = get_object_or_404(Team, pk=team_id)
    _require_team_lead(request, team)
    loads = agent_loads(team=team)
    form = TeamSettingsForm(request.POST, loads=loads, reviewed=_reviewed(loads))
    if not form.is_valid():
        context = _team_context(request, team, settings_form=form)
        return render(request, "inbox/people/team.html", context, status=400)
    try:
        people.team_settings_update(
            actor=request.user,
            team=team,
            assignment=form.cleaned_data["assignment"],
            capacities=form.capacities(),
            approvals=form.approvals(),
        )
    except ActionError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Team settings saved."))
    return redirect("pages:people_team", team_id=team.pk)


@require_POST
@lead_required
def shift_add(request: AuthedRequest, team_id: int) -> HttpResponse:
    team = get_object_or_404(Team, pk=team_id)
    _require_team_lead(request, team)
    form = ShiftForm(request.POST, team=team)
    if form.is_valid():
        data = form.cleaned_data
        try:
            people.shift_add(
                actor=request.user,
                user=data["user"],
                weekday=data["weekday"],
                start=data["start"],
                end=data["end"],
            )
        except ActionError as exc:
            form.add_error(None, exc.message)
    if not form.is_valid():
        context = _team_context(request, team, shift_form=form)
        return render(request, "inbox/people/team.html", context, status=400)
    messages.success(request, _("Shift added."))
    return redirect("pages:people_team", team_id=team.pk)


@require_POST
@lead_required
def shift_delete(request: AuthedRequest, team_id: int, shift_id: int) -> HttpResponse:
    team = get_object_or_404(Team, pk=team_id)
    _require_team_lead(request, team)
    shift = get_object_or_404(Shift, pk=shift_id, user__teams=team)
    people.shift_delete(actor=request.user, shift=shift)
    messages.success(request, _("Shift removed."))
    return redirect("pages:people_team", team_id=team.pk)


@require_POST
@lead_required
def availability(request: AuthedRequest, team_id: int) -> HttpResponse:
    """A lead marks a member available or away (away: automatic assignment skips them)."""
    team = get_object_or_404(Team, pk=team_id)
    _require_team_lead(request, team)
    raw = request.POST.get("user", "")
    member = team.members.filter(pk=raw if raw.isdigit() else 0, is_active=True).first()
    wanted = request.POST.get("available")
    if member is None or wanted not in ("0", "1"):
        messages.error(request, _("Pick a member of this team."))
        return redirect("pages:people_team", team_id=team.pk)
    agent_set_available(user=member, available=wanted == "1", actor=request.user)
    return redirect("pages:people_team", team_id=team.pk)


urlpatterns = [
    path("", team_list, name="people_teams"),
    path("new/", team_new, name="people_team_new"),
    path("<int:team_id>/", team_detail, name="people_team"),
    path("<int:team_id>/edit/", team_edit, name="people_team_edit"),
    path("<int:team_id>/settings/", team_settings, name="people_team_settings"),
    path("<int:team_id>/shifts/", shift_add, name="people_shift_add"),
    path(
        "<int:team_id>/shifts/<int:shift_id>/delete/",
        shift_delete,
        name="people_shift_delete",
    ),
    path("<int:team_id>/availability/", availability, name="people_availability"),
]

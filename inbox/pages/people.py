"""Users, teams and roles; agents' shifts and capacity.

Who may do what here:

- leads and admins see the user list, the team list and each team's page with its load;
- admins create and edit users (role, teams, active), reset passwords, create teams and change
  their name, members and time zone;
- a team's settings (manual or automatic assignment, each member's capacity cap), its members'
  shifts and whether they are available: admins for every team, leads for the teams they are in.

Every change goes through a service in ``inbox.people`` (or ``inbox.assignment``), which writes
the audit row.
"""

from __future__ import annotations

import zoneinfo

from django import forms
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Prefetch
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from inbox import access, people
from inbox.assignment import AUTO, MANUAL, agent_loads, agent_set_available, open_counts
from inbox.models import OPEN_STATUSES, AgentProfile, Shift, Team, Ticket
from inbox.services import ActionError

from .common import admin_required, lead_required

User = get_user_model()

ROLE_CHOICES = [
    ("agent", gettext_lazy("Agent")),
    ("lead", gettext_lazy("Team lead")),
    ("admin", gettext_lazy("Admin")),
]
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
class PasswordFields(forms.Form):
    """Generate a password, or let the admin type one (checked by the password validators)."""

    password = forms.CharField(
        label=gettext_lazy("Password"),
        required=False,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=gettext_lazy("Leave empty to generate one; it is shown once."),
    )

    def check_password(self, user) -> None:
        password = self.cleaned_data.get("password") or ""
        if password:
            try:
                validate_password(password, user)
            except ValidationError as exc:
                self.add_error("password", exc)


class UserFields(forms.Form):
    first_name = forms.CharField(label=gettext_lazy("First name"), max_length=150, required=False)
    last_name = forms.CharField(label=gettext_lazy("Last name"), max_length=150, required=False)
    email = forms.EmailField(label=gettext_lazy("Email"), required=False)
    role = forms.ChoiceField(label=gettext_lazy("Role"), choices=ROLE_CHOICES)
    teams = forms.ModelMultipleChoiceField(
        label=gettext_lazy("Teams"),
        queryset=Team.objects.order_by("name"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )


class UserCreateForm(UserFields, PasswordFields):
    username = forms.RegexField(
        label=gettext_lazy("Username"),
        max_length=150,
        regex=r"^[\w.@+-]+\Z",
        help_text=gettext_lazy("Letters, digits and @ . + - _ only."),
    )
    field_order = ["username", "first_name", "last_name", "email", "role", "teams", "password"]

    def clean_username(self) -> str:
        username = self.cleaned_data["username"]
        if User.objects.filter(username__iexact=username).exists():
            raise ValidationError(_("That username is taken."))
        return username

    def clean(self):
        cleaned = super().clean()
        if "username" in cleaned:
            self.check_password(User(username=cleaned["username"], email=cleaned.get("email", "")))
        return cleaned


class UserEditForm(UserFields):
    needs_approval = forms.BooleanField(
        label=gettext_lazy("Replies need a lead's approval (trainee)"),
        required=False,
        help_text=gettext_lazy("Their replies wait in the review queue until a lead approves."),
    )
    is_active = forms.BooleanField(
        label=gettext_lazy("Active (may log in)"),
        required=False,
        help_text=gettext_lazy(
            "Deactivating hands every ticket they hold that is not closed to the colleague "
            "below, or back to the queue of its team."
        ),
    )
    hand_over_to = forms.ModelChoiceField(
        label=gettext_lazy("Hand their tickets to"),
        queryset=User.objects.none(),
        required=False,
        empty_label=gettext_lazy("Nobody: back to the team's queue"),
    )

    def __init__(self, *args, user=None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["hand_over_to"].queryset = (
            User.objects.filter(is_active=True, groups__name__in=people.ROLES)
            .exclude(pk=user.pk if user else None)
            .distinct()
            .order_by("first_name", "username")
        )
        self.fields["hand_over_to"].label_from_instance = lambda u: (
            u.get_full_name() or u.get_username()
        )


class TeamForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Name"), max_length=100)
    time_zone = forms.ChoiceField(label=gettext_lazy("Time zone"))
    members = forms.ModelMultipleChoiceField(
        label=gettext_lazy("Members"),
        # Deactivated users stay listed (marked), so saving the form keeps them in the team.
        queryset=User.objects.order_by("-is_active", "first_name", "username"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    assignment = forms.ChoiceField(label=gettext_lazy("Assignment"), choices=MODE_CHOICES)

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["time_zone"].choices = [(z, z) for z in sorted(zoneinfo.available_timezones())]
        self.fields["members"].label_from_instance = _member_label


def _member_label(user) -> str:
    name = user.get_full_name() or user.get_username()
    return name if user.is_active else _("%(name)s (deactivated)") % {"name": name}


class TeamSettingsForm(forms.Form):
    """Assignment mode, and per member a capacity field (``capacity_<user id>``) and whether
    their replies wait for a lead's approval (``review_<user id>``: four-eyes review, for
    trainees)."""

    assignment = forms.ChoiceField(label=gettext_lazy("Assignment"), choices=MODE_CHOICES)

    def __init__(self, *args, loads=(), reviewed: set[int] = frozenset(), **kwargs) -> None:
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
    user = forms.ModelChoiceField(label=gettext_lazy("Agent"), queryset=User.objects.none())
    weekday = forms.TypedChoiceField(label=gettext_lazy("Day"), choices=WEEKDAYS, coerce=int)
    start = forms.TimeField(
        label=gettext_lazy("From"), widget=forms.TimeInput(attrs={"type": "time"})
    )
    end = forms.TimeField(label=gettext_lazy("To"), widget=forms.TimeInput(attrs={"type": "time"}))

    def __init__(self, *args, team: Team, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["user"].queryset = team.members.filter(is_active=True).order_by(
            "first_name", "username"
        )
        self.fields["user"].label_from_instance = lambda u: u.get_full_name() or u.get_username()


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


def _display(user) -> str:
    return user.get_full_name() or user.get_username()


# --- users ------------------------------------------------------------------------------------
@require_GET
@lead_required
def user_list(request: HttpRequest) -> HttpResponse:
    """Everyone with their role, teams and open tickets now (four queries, any number)."""
    users = list(
        User.objects.order_by("-is_active", "first_name", "username").prefetch_related(
            "groups", Prefetch("teams", queryset=Team.objects.order_by("name"))
        )
    )
    counts = open_counts([u.pk for u in users])
    labels = dict(ROLE_CHOICES)
    for user in users:
        user.role_label = labels.get(people.role_of(user), "")
        user.open_now = counts.get(user.pk, 0)
    return render(
        request,
        "pages/people/users.html",
        {"users": users, "can_edit": access.can_configure(request.user)},
    )


@never_cache
@require_http_methods(["GET", "POST"])
@admin_required
def user_new(request: HttpRequest) -> HttpResponse:
    form = UserCreateForm(request.POST or None, initial={"role": "agent"})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            user, generated = people.user_create(
                actor=request.user,
                username=data["username"],
                role=data["role"],
                first_name=data["first_name"],
                last_name=data["last_name"],
                email=data["email"],
                teams=data["teams"],
                password=data["password"],
            )
        except ActionError as exc:
            form.add_error(None, exc.message)
        else:
            if generated:
                return _show_password(request, user, generated)
            messages.success(request, _("User created."))
            return redirect("pages:people")
    return render(request, "pages/people/user_form.html", {"form": form})


@never_cache
@require_http_methods(["GET", "POST"])
@admin_required
def user_edit(request: HttpRequest, user_id: int) -> HttpResponse:
    user = get_object_or_404(User, pk=user_id)
    initial = {
        "first_name": user.first_name,
        "last_name": user.last_name,
        "email": user.email,
        "role": people.role_of(user) or "agent",
        "teams": list(user.teams.all()),
        "is_active": user.is_active,
        "needs_approval": AgentProfile.objects.filter(user=user, needs_approval=True).exists(),
    }
    form = UserEditForm(request.POST or None, initial=initial, user=user)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            handed = people.user_update(
                actor=request.user,
                user=user,
                role=data["role"],
                teams=data["teams"],
                is_active=data["is_active"],
                first_name=data["first_name"],
                last_name=data["last_name"],
                email=data["email"],
                hand_over_to=data["hand_over_to"],
                needs_approval=data["needs_approval"],
            )
        except ActionError as exc:
            form.add_error(None, exc.message)
        else:
            if handed and data["hand_over_to"]:
                messages.success(
                    request,
                    _("Saved. %(n)s open tickets went to %(name)s.")
                    % {"n": len(handed), "name": _display(data["hand_over_to"])},
                )
            elif handed:
                messages.success(
                    request,
                    _("Saved. %(n)s open tickets went back to their teams' queues.")
                    % {"n": len(handed)},
                )
            else:
                messages.success(request, _("Saved."))
            return redirect("pages:people")
    open_now = Ticket.objects.filter(assignee=user).exclude(status="closed").count()
    return render(
        request,
        "pages/people/user_form.html",
        {"form": form, "subject": user, "open_now": open_now, "password_form": PasswordFields()},
    )


@never_cache
@require_POST
@admin_required
def user_password(request: HttpRequest, user_id: int) -> HttpResponse:
    user = get_object_or_404(User, pk=user_id)
    form = PasswordFields(request.POST)
    if form.is_valid():
        form.check_password(user)
    if not form.is_valid():
        return render(
            request,
            "pages/people/user_form.html",
            {
                "form": UserEditForm(
                    initial={"role": people.role_of(user) or "agent", "is_active": user.is_active},
                    user=user,
                ),
                "subject": user,
                "password_form": form,
            },
            status=400,
        )
    generated = people.user_set_password(
        actor=request.user, user=user, password=form.cleaned_data["password"]
    )
    if generated:
        return _show_password(request, user, generated)
    messages.success(request, _("Password changed."))
    return redirect("pages:people_edit", user_id=user.pk)


def _show_password(request: HttpRequest, user, password: str) -> HttpResponse:
    """The generated password, once: it is in this response only, never stored in clear."""
    response = render(
        request, "pages/people/password_once.html", {"subject": user, "password": password}
    )
    response["Cache-Control"] = "no-store"
    return response


# --- teams ------------------------------------------------------------------------------------
@require_GET
@lead_required
def team_list(request: HttpRequest) -> HttpResponse:
    """Teams with their members and queue. The queue is one capped count per team (bounded
    however long the queues are; a grouped count would read every unassigned open ticket)."""
    teams = list(Team.objects.order_by("name").annotate(n_members=Count("members", distinct=True)))
    mine = set(access.team_ids(request.user))
    for team in teams:
        team.queue = queue_size(team)
        team.mine = team.pk in mine
    return render(
        request,
        "pages/people/teams.html",
        {"teams": teams, "can_edit": access.can_configure(request.user)},
    )


@require_GET
@lead_required
def team_detail(request: HttpRequest, team_id: int) -> HttpResponse:
    """The team's load (each agent's open tickets, capacity, available, on shift; the queue)
    and, for its leads and admins, its settings and shifts."""
    team = get_object_or_404(Team, pk=team_id)
    return render(request, "pages/people/team.html", _team_context(request, team))


def _team_context(request: HttpRequest, team: Team, **forms_: forms.Form) -> dict:
    loads = agent_loads(team=team)
    may_edit = access.can_lead_team(request.user, team.pk)
    shifts: dict[int, list[Shift]] = {}
    days = dict(WEEKDAYS)
    for shift in Shift.objects.filter(user_id__in=[a.user_id for a in loads]):
        shift.day_label = days.get(shift.weekday, shift.weekday)
        shifts.setdefault(shift.user_id, []).append(shift)
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
def team_new(request: HttpRequest) -> HttpResponse:
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
    return render(request, "pages/people/team_form.html", {"form": form})


@never_cache
@require_http_methods(["GET", "POST"])
@admin_required
def team_edit(request: HttpRequest, team_id: int) -> HttpResponse:
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
    return render(request, "pages/people/team_form.html", {"form": form, "team": team})


@require_POST
@lead_required
def team_settings(request: HttpRequest, team_id: int) -> HttpResponse:
    team = get_object_or_404(Team, pk=team_id)
    _require_team_lead(request, team)
    loads = agent_loads(team=team)
    form = TeamSettingsForm(request.POST, loads=loads, reviewed=_reviewed(loads))
    if not form.is_valid():
        context = _team_context(request, team, settings_form=form)
        return render(request, "pages/people/team.html", context, status=400)
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
def shift_add(request: HttpRequest, team_id: int) -> HttpResponse:
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
        return render(request, "pages/people/team.html", context, status=400)
    messages.success(request, _("Shift added."))
    return redirect("pages:people_team", team_id=team.pk)


@require_POST
@lead_required
def shift_delete(request: HttpRequest, team_id: int, shift_id: int) -> HttpResponse:
    team = get_object_or_404(Team, pk=team_id)
    _require_team_lead(request, team)
    shift = get_object_or_404(Shift, pk=shift_id, user__teams=team)
    people.shift_delete(actor=request.user, shift=shift)
    messages.success(request, _("Shift removed."))
    return redirect("pages:people_team", team_id=team.pk)


@require_POST
@lead_required
def availability(request: HttpRequest, team_id: int) -> HttpResponse:
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
    path("", user_list, name="people"),
    path("new/", user_new, name="people_new"),
    path("<int:user_id>/", user_edit, name="people_edit"),
    path("<int:user_id>/password/", user_password, name="people_password"),
    path("teams/", team_list, name="people_teams"),
    path("teams/new/", team_new, name="people_team_new"),
    path("teams/<int:team_id>/", team_detail, name="people_team"),
    path("teams/<int:team_id>/edit/", team_edit, name="people_team_edit"),
    path("teams/<int:team_id>/settings/", team_settings, name="people_team_settings"),
    path("teams/<int:team_id>/shifts/", shift_add, name="people_shift_add"),
    path(
        "teams/<int:team_id>/shifts/<int:shift_id>/delete/",
        shift_delete,
        name="people_shift_delete",
    ),
    path("teams/<int:team_id>/availability/", availability, name="people_availability"),
]

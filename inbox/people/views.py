"""Users and roles (teams, shifts and capacity: ``inbox.people.teams_views``).

Who may do what here: leads and admins see the user list; admins create and edit users (role,
teams, active) and reset passwords. Every change goes through a service in
``inbox.people.services``,
which writes the audit row.
"""

from __future__ import annotations

from typing import cast

from django import forms
from django.contrib import messages
from django.contrib.auth.models import User
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db.models import Prefetch
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import include, path
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from inbox.core import access
from inbox.core.decorators import admin_required, lead_required
from inbox.core.forms import PersonChoiceField
from inbox.engines.assignment import open_counts
from inbox.models import AgentProfile, Team, Ticket
from inbox.people import services as people
from inbox.people import teams_views as teams
from inbox.tickets.services import ActionError
from webcare.http import AuthedRequest

ROLE_CHOICES = [
    ("agent", gettext_lazy("Agent")),
    ("lead", gettext_lazy("Team lead")),
    ("admin", gettext_lazy("Admin")),
]


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
    hand_over_to = PersonChoiceField(
        label=gettext_lazy("Hand their tickets to"),
        queryset=User.objects.none(),
        required=False,
        empty_label=gettext_lazy("Nobody: back to the team's queue"),
    )

    def __init__(self, *args, user: User | None = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        people_with_a_role = User.objects.filter(is_active=True, groups__name__in=people.ROLES)
        if user is not None:
            people_with_a_role = people_with_a_role.exclude(pk=user.pk)
        cast(
            forms.ModelChoiceField, self.fields["hand_over_to"]
        ).queryset = people_with_a_role.distinct().order_by("first_name", "username")


# --- helpers ----------------------------------------------------------------------------------
def _display(user) -> str:
    return user.get_full_name() or user.get_username()


# --- users ------------------------------------------------------------------------------------
@require_GET
@lead_required
def user_list(request: AuthedRequest) -> HttpResponse:
    """Everyone with their role, teams and open tickets now (four queries, any number)."""
    users = list(
        User.objects.order_by("-is_active", "first_name", "username").prefetch_related(
            "groups", Prefetch("teams", queryset=Team.objects.order_by("name"))
        )
    )
    counts = open_counts([u.pk for u in users])
    labels = dict(ROLE_CHOICES)
    # Each person with their role's label and their open tickets now.
    rows = [(u, labels.get(people.role_of(u), ""), counts.get(u.pk, 0)) for u in users]
    return render(
        request,
        "inbox/people/users.html",
        {"users": rows, "can_edit": access.can_configure(request.user)},
    )


@never_cache
@require_http_methods(["GET", "POST"])
@admin_required
def user_new(request: AuthedRequest) -> HttpResponse:
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
    return render(request, "inbox/people/user_form.html", {"form": form})


@never_cache
@require_http_methods(["GET", "POST"])
@admin_required
def user_edit(request: AuthedRequest, user_id: int) -> HttpResponse:
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
        "inbox/people/user_form.html",
        {"form": form, "subject": user, "open_now": open_now, "password_form": PasswordFields()},
    )


@never_cache
@require_POST
@admin_required
def user_password(request: AuthedRequest, user_id: int) -> HttpResponse:
    user = get_object_or_404(User, pk=user_id)
    form = PasswordFields(request.POST)
    if form.is_valid():
        form.check_password(user)
    if not form.is_valid():
        return render(
            request,
            "inbox/people/user_form.html",
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
        request, "inbox/people/password_once.html", {"subject": user, "password": password}
    )
    response["Cache-Control"] = "no-store"
    return response


urlpatterns = [
    path("", user_list, name="people"),
    path("new/", user_new, name="people_new"),
    path("<int:user_id>/", user_edit, name="people_edit"),
    path("<int:user_id>/password/", user_password, name="people_password"),
    path("teams/", include(teams.urlpatterns)),
]

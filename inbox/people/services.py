"""People services: users and their roles, teams, capacity and shifts.

Every function is keyword-only, runs in one transaction and writes an audit row
(``inbox.models.Activity`` without a ticket) naming who changed what, before and after. Passwords
never enter the audit; a reset shows as ``"password": "generated"`` or ``"set"``.

Deactivating a user (the rule, also in ``docs/admin.md``): they can no longer log in, and every
ticket assigned to them that is not closed (new, open or pending) is handed over at once — to the
colleague the admin picks, or else back to the unassigned queue of its team, where automatic
teams share them out by the usual fair rule (oldest waiting first) and leads of manual teams see
them under "Unassigned". Each ticket gets its own activity row. Closed tickets keep their
assignee, so reports still credit who handled them. Routing rules skip an inactive assignee.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Iterable
from typing import Any

from django.contrib.auth.models import Group, User
from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from inbox.audit.services import activity_log
from inbox.core.access import assignable_ids
from inbox.engines.assignment import (
    AUTO,
    MANUAL,
    assignment_request,
    assignment_request_for_user,
    team_set_assignment,
)
from inbox.models import AgentProfile, Shift, Team
from inbox.tickets.services import ActionError, tickets_hand_over

#: The roles, weakest first; each is a group of the same name (migration 0003).
ROLES = ("agent", "lead", "admin")


def role_of(user: User) -> str:
    """The strongest role group the user is in, or "" (prefetch ``groups`` for lists)."""
    names = {g.name for g in user.groups.all()}
    for role in reversed(ROLES):
        if role in names:
            return role
    return ""


def generate_password() -> str:
    """A random password of 16 URL-safe characters (96 bits), shown once to the admin."""
    return secrets.token_urlsafe(12)


def _set_role(user: User, role: str) -> None:
    if role not in ROLES:
        raise ActionError(_("Unknown role."))
    role_groups = list(Group.objects.filter(name__in=ROLES))
    user.groups.remove(*[g for g in role_groups if g.name != role])
    group = next((g for g in role_groups if g.name == role), None)
    if group is None:  # the data migration made them; a flushed test database may not have
        group = Group.objects.create(name=role)
    user.groups.add(group)


def _active_admins_besides(user: User) -> int:
    return (
        User.objects.filter(Q(groups__name="admin") | Q(is_superuser=True), is_active=True)
        .exclude(pk=user.pk)
        .distinct()
        .count()
    )


def _user_state(user: User) -> dict[str, Any]:
    return {
        "username": user.get_username(),
        "first_name": user.first_name,
        "last_name": user.last_name,
        "email": user.email,
        "role": role_of(user),
        "teams": sorted(user.teams.values_list("pk", flat=True)),
        "active": user.is_active,
        "needs_approval": AgentProfile.objects.filter(user=user, needs_approval=True).exists(),
    }


# --- users ------------------------------------------------------------------------------------
def user_create(
    *,
    actor: User,
    username: str,
    role: str,
    first_name: str = "",
    last_name: str = "",
    email: str = "",
    teams: Iterable[Team] = (),
    password: str = "",
) -> tuple[User, str]:
    """Create a user with a role and teams. Without ``password`` one is generated.

    Returns the user and the generated password ("" when the admin set one): the caller shows
    it once; it is stored only as a hash.
    """
    generated = "" if password else generate_password()
    with transaction.atomic():
        if User.objects.filter(username__iexact=username).exists():
            raise ActionError(_("That username is taken."))
        user = User.objects.create_user(
            username=username,
            email=email,
            password=password or generated,
            first_name=first_name,
            last_name=last_name,
        )
        _set_role(user, role)
        user.teams.set(list(teams))
        AgentProfile.objects.get_or_create(user=user)
        after = {"user": user.pk, **_user_state(user)}
        after["password"] = "generated" if generated else "set"
        activity_log(ticket=None, actor=actor, verb="user_created", after=after)
    return user, generated


def user_update(
    *,
    actor: User,
    user: User,
    role: str,
    teams: Iterable[Team],
    is_active: bool,
    first_name: str,
    last_name: str,
    email: str,
    hand_over_to: User | None = None,
    needs_approval: bool | None = None,
) -> list[int]:
    """Change a user's names, role, teams, whether they may log in and whether their replies
    need a lead's approval (``needs_approval``; None leaves it as it is).

    Refused: taking away one's own admin role or access, and leaving no active admin. When the
    user is deactivated, their tickets are handed over (module docstring); returns those ids.
    """
    with transaction.atomic():
        user = User.objects.select_for_update().get(pk=user.pk)
        before = _user_state(user)
        losing_admin = before["role"] == "admin" and (role != "admin" or not is_active)
        if losing_admin and user.pk == actor.pk:
            raise ActionError(_("You cannot take away your own admin role or access."))
        if losing_admin and before["active"] and _active_admins_besides(user) == 0:
            raise ActionError(_("This is the last active admin; make someone else admin first."))
        user.first_name, user.last_name, user.email = first_name, last_name, email
        user.is_active = is_active
        user.save(update_fields=["first_name", "last_name", "email", "is_active"])
        _set_role(user, role)
        user.teams.set(list(teams))
        if needs_approval is not None:
            AgentProfile.objects.update_or_create(
                user=user, defaults={"needs_approval": needs_approval}
            )
        after = _user_state(user)
        changed = [key for key in after if after[key] != before[key]]
        if changed:
            activity_log(
                ticket=None,
                actor=actor,
                verb="user_updated",
                before={"user": user.pk, **{k: before[k] for k in changed}},
                after={"user": user.pk, **{k: after[k] for k in changed}},
            )
        handed: list[int] = []
        if before["active"] and not is_active:
            handed = _hand_over_tickets(actor=actor, user=user, to=hand_over_to)
            activity_log(
                ticket=None,
                actor=actor,
                verb="user_deactivated",
                before={"user": user.pk, "active": True},
                after={
                    "user": user.pk,
                    "active": False,
                    "tickets": len(handed),
                    "handed_to": hand_over_to.pk if hand_over_to else None,
                },
            )
        elif is_active and not before["active"]:
            assignment_request_for_user(user_id=user.pk)
    return handed


def _hand_over_tickets(*, actor: User, user: User, to: User | None) -> list[int]:
    """Every not-closed ticket of ``user`` to ``to`` or to nobody; one activity row each."""
    if to is not None and (to.pk == user.pk or to.pk not in assignable_ids([to.pk])):
        raise ActionError(_("Hand the tickets to an active colleague."))
    rows = tickets_hand_over(actor=actor, user=user, to=to, reason="deactivated")
    if not rows:
        return []
    ids = [pk for pk, _team in rows]
    if to is None:
        teams = {team for _pk, team in rows if team is not None}
        for team_id in Team.objects.filter(pk__in=teams, assignment=AUTO).values_list(
            "pk", flat=True
        ):
            assignment_request(team_id=team_id)
    return ids


def user_set_password(*, actor: User, user: User, password: str = "") -> str:
    """Set a new password (or generate one, returned to show once). The user's open sessions
    end: Django ties each session to the password hash."""
    generated = "" if password else generate_password()
    with transaction.atomic():
        user = User.objects.select_for_update().get(pk=user.pk)
        user.set_password(password or generated)
        user.save(update_fields=["password"])
        activity_log(
            ticket=None,
            actor=actor,
            verb="user_password_reset",
            after={"user": user.pk, "password": "generated" if generated else "set"},
        )
    return generated


# --- teams ------------------------------------------------------------------------------------
def _team_state(team: Team) -> dict[str, Any]:
    return {
        "name": team.name,
        "time_zone": team.time_zone,
        "assignment": team.assignment,
        "members": sorted(team.members.values_list("pk", flat=True)),
    }


def team_create(
    *,
    actor: User,
    name: str,
    members: Iterable[User] = (),
    assignment: str = MANUAL,
    time_zone: str = "Europe/Amsterdam",
) -> Team:
    if assignment not in (AUTO, MANUAL):
        raise ActionError(_("Assignment is manual or automatic."))
    with transaction.atomic():
        if Team.objects.filter(name__iexact=name).exists():
            raise ActionError(_("A team with that name exists."))
        team = Team.objects.create(name=name, assignment=assignment, time_zone=time_zone)
        team.members.set(list(members))
        activity_log(
            ticket=None,
            actor=actor,
            verb="team_created",
            after={"team": team.pk, **_team_state(team)},
        )
        if assignment == AUTO:
            assignment_request(team_id=team.pk)
    return team


def team_update(
    *,
    actor: User,
    team: Team,
    name: str,
    members: Iterable[User],
    time_zone: str,
) -> Team:
    """An admin renames a team, changes its members or time zone. Tickets an agent leaving the
    team holds stay theirs (they still see tickets assigned to them)."""
    with transaction.atomic():
        team = Team.objects.select_for_update().get(pk=team.pk)
        if Team.objects.filter(name__iexact=name).exclude(pk=team.pk).exists():
            raise ActionError(_("A team with that name exists."))
        before = _team_state(team)
        team.name, team.time_zone = name, time_zone
        team.save(update_fields=["name", "time_zone"])
        team.members.set(list(members))
        after = _team_state(team)
        changed = [key for key in after if after[key] != before[key]]
        if changed:
            activity_log(
                ticket=None,
                actor=actor,
                verb="team_updated",
                before={"team": team.pk, **{k: before[k] for k in changed}},
                after={"team": team.pk, **{k: after[k] for k in changed}},
            )
        if team.assignment == AUTO and set(after["members"]) - set(before["members"]):
            assignment_request(team_id=team.pk)
    return team


def team_settings_update(
    *,
    actor: User,
    team: Team,
    assignment: str,
    capacities: dict[int, int],
    approvals: dict[int, bool] | None = None,
) -> Team:
    """What a team's lead may change: manual or automatic assignment, each member's capacity
    cap (``AgentProfile.capacity``, which holds across all their teams) and whether a member's
    replies wait for a lead's approval (``AgentProfile.needs_approval``)."""
    with transaction.atomic():
        if assignment != team.assignment:
            team_set_assignment(team=team, mode=assignment, actor=actor)
        members = set(team.members.values_list("pk", flat=True))
        for user_id, capacity in capacities.items():
            if user_id in members:
                agent_set_capacity(actor=actor, user_id=user_id, capacity=capacity)
        for user_id, needed in (approvals or {}).items():
            if user_id in members:
                agent_set_needs_approval(actor=actor, user_id=user_id, needs_approval=needed)
    return team


def agent_set_needs_approval(*, actor: User, user_id: int, needs_approval: bool) -> AgentProfile:
    """Whether the agent's replies wait for a lead's approval before they are sent."""
    profile, _before = _profile_set(
        actor=actor,
        user_id=user_id,
        field="needs_approval",
        value=needs_approval,
        verb="agent_needs_approval",
    )
    return profile


def agent_set_capacity(*, actor: User, user_id: int, capacity: int) -> AgentProfile:
    """How many open tickets automatic assignment gives the agent at most."""
    if capacity < 0 or capacity > 1000:
        raise ActionError(_("Capacity is between 0 and 1000 open tickets."))
    profile, before = _profile_set(
        actor=actor, user_id=user_id, field="capacity", value=capacity, verb="agent_capacity"
    )
    if capacity > before:
        assignment_request_for_user(user_id=user_id)
    return profile


def _profile_set(
    *, actor: User, user_id: int, field: str, value: Any, verb: str
) -> tuple[AgentProfile, Any]:
    """Set one field of the agent's profile under a row lock, audited when it changed; returns
    the profile and the value before."""
    with transaction.atomic():
        profile, _created = AgentProfile.objects.select_for_update().get_or_create(user_id=user_id)
        before = getattr(profile, field)
        if before != value:
            setattr(profile, field, value)
            profile.save(update_fields=[field])
            activity_log(
                ticket=None,
                actor=actor,
                verb=verb,
                before={"user": user_id, field: before},
                after={"user": user_id, field: value},
            )
    return profile, before


# --- shifts -----------------------------------------------------------------------------------
def _shift_state(shift: Shift) -> dict[str, Any]:
    return {
        "user": shift.user_id,
        "weekday": shift.weekday,
        "start": shift.start.strftime("%H:%M"),
        "end": shift.end.strftime("%H:%M"),
    }


def shift_add(*, actor: User, user: User, weekday: int, start: dt.time, end: dt.time) -> Shift:
    """A weekly shift in the agent's own time zone; an end before the start runs past midnight."""
    if not 0 <= weekday <= 6:
        raise ActionError(_("Pick a day of the week."))
    if start == end:
        raise ActionError(_("A shift ends at another time than it starts."))
    with transaction.atomic():
        shift = Shift.objects.create(user=user, weekday=weekday, start=start, end=end)
        activity_log(
            ticket=None,
            actor=actor,
            verb="shift_added",
            after={"shift": shift.pk, **_shift_state(shift)},
        )
        assignment_request_for_user(user_id=user.pk)
    return shift


def shift_delete(*, actor: User, shift: Shift) -> None:
    with transaction.atomic():
        state = _shift_state(shift)
        shift_id = shift.pk
        shift.delete()
        activity_log(
            ticket=None, actor=actor, verb="shift_removed", before={"shift": shift_id, **state}
        )
        assignment_request_for_user(user_id=state["user"])

"""Who may see and do what in the inbox: the one place that decides.

Roles are the groups "agent", "lead" and "admin" (created by migration 0003):

- an agent works the tickets of the teams they belong to, tickets assigned to them, and tickets
  that no team owns yet (routing found no team: someone must pick them up, so every agent sees
  them);
- a lead also assigns tickets to others, works bulk assignment and sees every team;
- an admin also configures (canned replies, channels, routing).

Views call these helpers before anything else; a forbidden action raises ``PermissionDenied``
(HTTP 403) before any service runs, so nothing changes.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet

from inbox.models import Ticket

WORK = "inbox.work_tickets"
ASSIGN = "inbox.assign_tickets"
CONFIGURE = "inbox.configure_inbox"


def can_work(user) -> bool:
    return bool(user.is_active and user.has_perm(WORK))


def can_assign(user) -> bool:
    return bool(user.is_active and user.has_perm(ASSIGN))


def can_configure(user) -> bool:
    return bool(user.is_active and user.has_perm(CONFIGURE))


def assignable_ids(user_ids) -> set[int]:
    """Of ``user_ids``, the users who may be given tickets: active accounts that can work
    tickets (the ``work_tickets`` permission through a role or their own, or a superuser), as
    Django's ModelBackend decides ``can_work``. One query, for one user or many.

    The one check of every path that assigns: by hand and in bulk (``services.ticket_assign``,
    ``services.tickets_bulk``), fair auto-assignment (``assignment.team_assign``), routing rules
    (``routing.routing_apply``) and the hand-over of a deactivated agent's tickets."""
    from django.contrib.auth import get_user_model

    ids = {int(pk) for pk in user_ids if pk is not None}
    if not ids:
        return set()
    app, codename = WORK.split(".")
    perm = {"permissions__content_type__app_label": app, "permissions__codename": codename}
    works = (
        Q(is_superuser=True)
        | Q(**{f"user_{k}": v for k, v in perm.items()})
        | Q(**{f"groups__{k}": v for k, v in perm.items()})
    )
    found = get_user_model().objects.filter(works, pk__in=ids, is_active=True)
    return set(found.values_list("pk", flat=True).distinct())


def require_work(user) -> None:
    if not can_work(user):
        raise PermissionDenied("You are not an agent of this inbox.")


def require_assign(user) -> None:
    if not can_assign(user):
        raise PermissionDenied("Only team leads can assign tickets to others.")


def team_ids(user) -> list[int]:
    """The teams ``user`` belongs to (kept with their permissions: ``inbox.core.auth.roles_of``)."""
    from inbox.core.auth import roles_of

    return list(roles_of(user).team_ids)


def visible_tickets(user, queryset: QuerySet[Ticket] | None = None) -> QuerySet[Ticket]:
    """Tickets ``user`` may see; empty for someone without a role."""
    qs = Ticket.objects.all() if queryset is None else queryset
    if not can_work(user):
        return qs.none()
    if can_assign(user):
        return qs
    return qs.filter(Q(team__isnull=True) | Q(team_id__in=team_ids(user)) | Q(assignee=user))


def can_see_ticket(user, ticket: Ticket) -> bool:
    if not can_work(user):
        return False
    if can_assign(user):
        return True
    return (
        ticket.team_id is None or ticket.team_id in team_ids(user) or ticket.assignee_id == user.pk
    )


def ticket_for(user, ticket_id: int, queryset: QuerySet[Ticket] | None = None) -> Ticket:
    """The ticket if ``user`` may work it; 404 when it does not exist, 403 when not theirs."""
    from django.http import Http404

    qs = Ticket.objects.all() if queryset is None else queryset
    ticket = qs.filter(pk=ticket_id).first()
    if ticket is None:
        raise Http404("No such ticket.")
    if not can_see_ticket(user, ticket):
        raise PermissionDenied("This ticket belongs to a team you are not in.")
    return ticket


def can_lead_team(user, team_id: int) -> bool:
    """Whether ``user`` may change the team's settings (assignment mode, capacities, shifts):
    admins for every team, leads for the teams they belong to."""
    if can_configure(user):
        return True
    return can_assign(user) and team_id in team_ids(user)

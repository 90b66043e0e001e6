"""Fair automatic assignment, per team (``Team.assignment == "auto"``).

The rule: the oldest waiting unassigned ticket goes first, to the available, on-shift agent with
the fewest open tickets (new or open, across all teams), never above their ``capacity``. Ties go
to the agent with the lower user id, so a run is deterministic.

Concurrency: a run locks the team row and then the candidates' profile rows (ordered by pk, so two
runs for two teams sharing an agent cannot deadlock) before it counts loads; each ticket is taken
with a conditional UPDATE (only while still unassigned and open), so a lead assigning by hand at
the same moment wins and the run just moves on. On SQLite the IMMEDIATE transactions serialise
writers, which gives the same guarantee.

Runs are triggered after ingest (on commit, by ``inbox/engines/at_ingest.py``), when an agent
becomes
available (:func:`agent_set_available`), by the services that close or release a ticket
(:func:`assignment_request`), and by a periodic sweep as a safety net.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from celery import current_app
from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import Count
from django.utils import timezone

from inbox.audit.services import activity_log
from inbox.core import access
from inbox.models import OPEN_STATUSES, Activity, AgentProfile, Shift, Team, Ticket
from inbox.tickets.services import ticket_take

log = logging.getLogger(__name__)
AUTO = "auto"
MANUAL = "manual"


@dataclass(frozen=True, slots=True)
class AgentLoad:
    """One agent's state as the lead's assign screen shows it."""

    user_id: int
    username: str
    open_tickets: int
    capacity: int
    available: bool
    on_shift: bool
    name: str = ""

    @property
    def free(self) -> int:
        return max(0, self.capacity - self.open_tickets)

    @property
    def eligible(self) -> bool:
        """Would automatic assignment give this agent a ticket now?"""
        return self.available and self.on_shift and self.free > 0


def on_shift(shifts: Iterable[Shift], zone: str, now: dt.datetime) -> bool:
    """Whether ``now`` falls in one of the agent's shifts; no shifts at all means always."""
    shifts = list(shifts)
    if not shifts:
        return True
    try:
        local = now.astimezone(ZoneInfo(zone))
    except (KeyError, ValueError):
        local = timezone.localtime(now)
    today, clock = local.weekday(), local.time()
    yesterday = (today - 1) % 7
    for shift in shifts:
        if shift.start <= shift.end:
            if shift.weekday == today and shift.start <= clock < shift.end:
                return True
        else:  # past midnight: the evening of its day and the early hours of the next
            if shift.weekday == today and clock >= shift.start:
                return True
            if shift.weekday == yesterday and clock < shift.end:
                return True
    return False


def open_counts(user_ids: Iterable[int]) -> dict[int, int]:
    """Each user's open tickets; users with none are left out."""
    return dict(
        Ticket.objects.filter(assignee_id__in=list(user_ids), status__in=OPEN_STATUSES)
        .values_list("assignee_id")
        .annotate(n=Count("id"))
        .values_list("assignee_id", "n")
    )


def agent_loads(*, team: Team, now: dt.datetime | None = None) -> list[AgentLoad]:
    """Each team member's current load, for the lead's assign screen (three queries)."""
    users = (
        get_user_model()
        .objects.filter(teams=team, is_active=True)
        .select_related("profile")
        .order_by("pk")
    )
    return loads_of(users, now=now)


# What a load shows of a user and their profile (every lead's thread reads it for everyone).
_LOAD_FIELDS = ("id", "username", "first_name", "last_name", "profile__capacity",
                "profile__available", "profile__time_zone", "profile__user_id")  # fmt: skip


def assign_choices(*, now: dt.datetime | None = None) -> list[AgentLoad]:
    """Everyone a lead can hand a ticket to, by name, with their load (three queries): the
    inbox's assign control shows open tickets, capacity, availability and shift per agent."""
    users = (
        get_user_model()
        .objects.filter(is_active=True, groups__name__in=["agent", "lead", "admin"])
        .distinct()
        .select_related("profile")
        .only(*_LOAD_FIELDS)
        .order_by("first_name", "last_name", "username")
    )
    return loads_of(users, now=now)


def loads_of(users: Iterable, *, now: dt.datetime | None = None) -> list[AgentLoad]:
    """The load of each of ``users`` (select their ``profile``): two queries beyond theirs."""
    now = now or timezone.now()
    users = list(users)
    counts = open_counts(u.pk for u in users)
    shifts: dict[int, list[Shift]] = {}
    for shift in Shift.objects.filter(user__in=[u.pk for u in users]):
        shifts.setdefault(shift.user_id, []).append(shift)
    loads = []
    for user in users:
        profile = getattr(user, "profile", None)
        loads.append(
            AgentLoad(
                user_id=user.pk,
                username=user.get_username(),
                open_tickets=counts.get(user.pk, 0),
                capacity=profile.capacity if profile else 0,
                available=bool(profile and profile.available),
                on_shift=on_shift(
                    shifts.get(user.pk, []), profile.time_zone if profile else "", now
                ),
                name=user.get_full_name() or user.get_username(),
            )
        )
    return loads


def team_assign(*, team_id: int, now: dt.datetime | None = None) -> list[tuple[int, int]]:
    """Run fair assignment for one team; return the (ticket id, user id) pairs assigned."""
    now = now or timezone.now()
    assigned: list[tuple[int, int]] = []
    with transaction.atomic():
        team = Team.objects.select_for_update().filter(pk=team_id).first()
        if team is None or team.assignment != AUTO:
            return assigned
        profiles = list(
            AgentProfile.objects.select_for_update()
            .filter(user__teams=team, user__is_active=True, available=True, capacity__gt=0)
            .order_by("pk")
        )
        if not profiles:
            return assigned
        shifts: dict[int, list[Shift]] = {}
        for shift in Shift.objects.filter(user_id__in=[p.user_id for p in profiles]):
            shifts.setdefault(shift.user_id, []).append(shift)
        # Only people whose role works tickets: a team member without one (or whose role was
        # taken away) is never handed tickets (access.assignable_ids, the check of every path).
        may = access.assignable_ids(p.user_id for p in profiles)
        profiles = [
            p
            for p in profiles
            if p.user_id in may and on_shift(shifts.get(p.user_id, []), p.time_zone, now)
        ]
        counts = open_counts(p.user_id for p in profiles)
        load = {p.user_id: counts.get(p.user_id, 0) for p in profiles}
        capacity = {p.user_id: p.capacity for p in profiles}
        free = sum(max(0, capacity[u] - load[u]) for u in load)
        if free == 0:
            return assigned
        waiting = list(
            Ticket.objects.filter(team=team, assignee__isnull=True, status__in=OPEN_STATUSES)
            .exclude(waiting_since__isnull=True)
            .order_by("waiting_since", "pk")
            .values_list("pk", flat=True)[:free]
        )
        activities = []
        for ticket_id in waiting:
            candidates = [u for u in load if load[u] < capacity[u]]
            if not candidates:
                break
            user_id = min(candidates, key=lambda u: (load[u], u))
            taken = ticket_take(ticket_id=ticket_id, assignee_id=user_id, now=now, open_only=True)
            if not taken:
                continue  # assigned by hand or closed meanwhile
            load[user_id] += 1
            assigned.append((ticket_id, user_id))
            activities.append(
                Activity(
                    ticket_id=ticket_id,
                    verb="assigned",
                    after={"assignee": user_id, "by": "auto", "open_tickets": load[user_id]},
                    created_at=now,
                )
            )
        if activities:
            Activity.objects.bulk_create(activities)
    return assigned


def assignment_request(*, team_id: int) -> None:
    """Queue an assignment run for the team once the current transaction commits.

    For the services that free capacity or add work: closing or releasing a ticket, an agent
    coming back, a new ticket. Cheap to call often: a run with nothing to do is a few queries.
    """
    transaction.on_commit(lambda: _dispatch(team_id))


# The task that runs :func:`team_assign`, queued by its name: ``inbox/tasks.py`` (above every
# area) defines it and ``InboxConfig.ready`` registers it in every process.
ASSIGN_TASK = "inbox.tasks.assign_team"


def _dispatch(team_id: int) -> None:
    task = current_app.tasks[ASSIGN_TASK]  # a missing task is a deploy error: let it raise
    # After commit, maybe inside a poll: a broker outage must not fail the caller; the periodic
    # sweep (assign_all_teams) runs the assignment later.
    try:
        task.delay(team_id)
    except Exception:  # noqa: BLE001 - any broker failure
        log.warning("broker unreachable; assignment of team %s waits for the sweep", team_id)


def assignment_request_for_user(*, user_id: int) -> None:
    """An agent freed up (closed, released, came back): run their teams' assignment."""
    for team_id in Team.objects.filter(members__pk=user_id, assignment=AUTO).values_list(
        "pk", flat=True
    ):
        assignment_request(team_id=team_id)


def agent_set_available(*, user: User, available: bool, actor: User | None = None) -> AgentProfile:
    """Mark an agent available or away; coming back triggers assignment for their teams."""
    with transaction.atomic():
        profile, _ = AgentProfile.objects.select_for_update().get_or_create(user=user)
        before = profile.available
        profile.available = available
        profile.save(update_fields=["available"])
        activity_log(
            ticket=None,
            actor=actor or user,
            verb="agent_availability",
            before={"user": user.pk, "available": before},
            after={"user": user.pk, "available": available},
        )
        if available and not before:
            assignment_request_for_user(user_id=user.pk)
    return profile


def team_set_assignment(*, team: Team, mode: str, actor: User | None) -> Team:
    if mode not in (AUTO, MANUAL):
        raise ValueError(f"assignment is 'auto' or 'manual', not {mode!r}")
    with transaction.atomic():
        before = team.assignment
        Team.objects.filter(pk=team.pk).update(assignment=mode)
        team.assignment = mode
        activity_log(
            ticket=None,
            actor=actor,
            verb="team_assignment",
            before={"team": team.pk, "assignment": before},
            after={"team": team.pk, "assignment": mode},
        )
        if mode == AUTO:
            assignment_request(team_id=team.pk)
    return team


def auto_teams() -> list[int]:
    return list(Team.objects.filter(assignment=AUTO).values_list("pk", flat=True))

"""Fair automatic assignment: oldest first, fewest open tickets, capacity, availability, shifts."""

import datetime as dt
import itertools

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from channels.models import Channel
from inbox.engines.assignment import (
    agent_loads,
    agent_set_available,
    on_shift,
    team_assign,
    team_set_assignment,
)
from inbox.ingest.services import ingest_batch
from inbox.models import Activity, AgentProfile, Shift, Team, Ticket, TicketStatus
from tests.factories import item, make_channel
from tests.personas import ensure_roles

pytestmark = pytest.mark.django_db
User = get_user_model()
NOW = dt.datetime(2026, 11, 18, 10, 0, tzinfo=dt.UTC)  # a Wednesday, 11:00 in Amsterdam
_names = itertools.count(1)


def agent(team, *, capacity=3, available=True, name=None, role="agent"):
    user = User.objects.create_user(name or f"agent{next(_names)}")
    if role:
        ensure_roles()
        user.groups.add(Group.objects.get(name=role))
    AgentProfile.objects.create(user=user, capacity=capacity, available=available)
    team.members.add(user)
    return user


def tickets(team, channel, n, *, start=NOW - dt.timedelta(hours=3), assignee=None, step=1):
    made = []
    for k in range(n):
        made.append(
            Ticket.objects.create(
                channel=channel,
                kind="mention",
                thread_key=f"t{next(_names)}",
                team=team,
                assignee=assignee,
                status=TicketStatus.NEW,
                waiting_since=start + dt.timedelta(minutes=k * step),
            )
        )
    return made


@pytest.fixture
def team():
    return Team.objects.create(name=f"Care {next(_names)}", assignment="auto")


@pytest.fixture
def channel():
    return make_channel()


def test_the_oldest_waiting_ticket_goes_to_the_agent_with_the_fewest_open_tickets(team, channel):
    busy = agent(team, name="busy")
    idle = agent(team, name="idle")
    tickets(team, channel, 2, assignee=busy)
    oldest, newer = tickets(team, channel, 2, start=NOW - dt.timedelta(hours=1))
    result = team_assign(team_id=team.pk, now=NOW)
    # Idle has none, then one: still fewer than busy's two.
    assert result == [(oldest.pk, idle.pk), (newer.pk, idle.pk)]
    third = tickets(team, channel, 1)[0]
    # Now both have two: the tie goes to the lower user id.
    assert team_assign(team_id=team.pk, now=NOW) == [(third.pk, busy.pk)]


def test_nobody_gets_more_than_their_capacity(team, channel):
    a = agent(team, capacity=1)
    b = agent(team, capacity=2)
    tickets(team, channel, 5)
    team_assign(team_id=team.pk, now=NOW)
    assert Ticket.objects.filter(assignee=a).count() == 1
    assert Ticket.objects.filter(assignee=b).count() == 2
    assert Ticket.objects.filter(assignee=None).count() == 2


def test_unavailable_agents_and_agents_off_shift_get_nothing(team, channel):
    agent(team, available=False)
    night = agent(team)
    Shift.objects.create(user=night, weekday=2, start=dt.time(22, 0), end=dt.time(6, 0))
    tickets(team, channel, 3)
    assert team_assign(team_id=team.pk, now=NOW) == []


def test_manual_teams_are_left_alone(team, channel):
    team_set_assignment(team=team, mode="manual", actor=None)
    agent(team)
    tickets(team, channel, 1)
    assert team_assign(team_id=team.pk, now=NOW) == []


def test_closed_and_answered_tickets_are_not_assigned(team, channel):
    agent(team)
    closed, answered = tickets(team, channel, 2)
    Ticket.objects.filter(pk=closed.pk).update(status=TicketStatus.CLOSED)
    Ticket.objects.filter(pk=answered.pk).update(waiting_since=None)
    assert team_assign(team_id=team.pk, now=NOW) == []


def test_an_agent_who_closes_a_ticket_gets_the_next_one(team, channel):
    anna = agent(team, capacity=1)
    first, second = tickets(team, channel, 2)
    team_assign(team_id=team.pk, now=NOW)
    assert Ticket.objects.get(pk=first.pk).assignee == anna
    Ticket.objects.filter(pk=first.pk).update(status=TicketStatus.CLOSED)
    assert team_assign(team_id=team.pk, now=NOW) == [(second.pk, anna.pk)]


def test_each_automatic_assignment_is_logged(team, channel):
    anna = agent(team)
    [ticket] = tickets(team, channel, 1)
    team_assign(team_id=team.pk, now=NOW)
    activity = Activity.objects.get(verb="assigned", ticket=ticket)
    assert activity.after == {"assignee": anna.pk, "by": "auto", "open_tickets": 1}


def test_the_lead_sees_each_agents_load(team, channel):
    anna = agent(team, capacity=4, name="anna")
    away = agent(team, available=False, name="away")
    tickets(team, channel, 3, assignee=anna)
    loads = {load.username: load for load in agent_loads(team=team, now=NOW)}
    assert (loads["anna"].open_tickets, loads["anna"].free, loads["anna"].eligible) == (3, 1, True)
    assert loads["away"].eligible is False and loads["away"].open_tickets == 0
    assert away.pk == loads["away"].user_id


def test_shifts_are_read_in_the_agents_time_zone_and_may_cross_midnight():
    night = [Shift(weekday=0, start=dt.time(22, 0), end=dt.time(6, 0))]
    monday_23 = dt.datetime(2026, 11, 16, 22, 0, tzinfo=dt.UTC)  # 23:00 in Amsterdam
    tuesday_05 = dt.datetime(2026, 11, 17, 4, 0, tzinfo=dt.UTC)  # 05:00 in Amsterdam
    tuesday_07 = dt.datetime(2026, 11, 17, 6, 0, tzinfo=dt.UTC)
    assert on_shift(night, "Europe/Amsterdam", monday_23)
    assert on_shift(night, "Europe/Amsterdam", tuesday_05)
    assert not on_shift(night, "Europe/Amsterdam", tuesday_07)
    assert on_shift([], "Europe/Amsterdam", tuesday_07)


def test_ingest_queues_an_assignment_run_after_commit(team, django_capture_on_commit_callbacks):
    anna = agent(team)
    channel = make_channel(default_team=team)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        ingest_batch(channel_id=channel.pk, items=[item("m1")])
    assert Ticket.objects.get().assignee is None  # not inside the ingest transaction
    from inbox import tasks

    ran = []
    original = tasks.assign_team.delay
    tasks.assign_team.delay = lambda team_id: ran.append(tasks.assign_team(team_id))
    try:
        for callback in callbacks:
            callback()
    finally:
        tasks.assign_team.delay = original
    assert ran == [1]
    assert Ticket.objects.get().assignee == anna


def test_an_agent_coming_back_triggers_assignment(team, django_capture_on_commit_callbacks):
    anna = agent(team, available=False)
    with django_capture_on_commit_callbacks() as callbacks:
        agent_set_available(user=anna, available=True)
    assert len(callbacks) == 1
    assert AgentProfile.objects.get(user=anna).available


def test_a_ticket_taken_by_hand_meanwhile_is_skipped(team, channel, monkeypatch):
    lead = User.objects.create_user("lead")
    agent(team)
    first, second = tickets(team, channel, 2)
    original = Ticket.objects.filter

    def grab_first(*args, **kwargs):
        # A lead assigns the oldest ticket between the run's read and its update.
        if kwargs.get("pk") == first.pk and "assignee__isnull" in kwargs:
            Ticket._base_manager.filter(pk=first.pk).update(assignee=lead)
        return original(*args, **kwargs)

    monkeypatch.setattr(Ticket.objects, "filter", grab_first)
    result = team_assign(team_id=team.pk, now=NOW)
    monkeypatch.undo()
    assert [pk for pk, _ in result] == [second.pk]
    assert Ticket.objects.get(pk=first.pk).assignee == lead


# --- the fairness property ------------------------------------------------------------------
agents_spec = st.lists(
    st.tuples(
        st.integers(0, 4),  # capacity
        st.booleans(),  # available
        st.integers(0, 5),  # open tickets already assigned (by hand, possibly over capacity)
        st.booleans(),  # has a shift that is not now
    ),
    min_size=1,
    max_size=5,
)
waiting_spec = st.lists(st.integers(0, 600), min_size=0, max_size=15)  # minutes ago


class _Rollback(Exception):
    pass


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(agents_spec, waiting_spec)
def test_fair_assignment_never_exceeds_capacity_takes_the_oldest_first_and_only_eligible_agents(
    agents, waiting
):
    try:
        with transaction.atomic():
            _check_fairness(agents, waiting)
            raise _Rollback
    except _Rollback:
        pass


def _check_fairness(agents, waiting):
    team = Team.objects.create(name=f"P {next(_names)}", assignment="auto")
    channel = Channel.objects.create(kind="simulator", name=f"p{next(_names)}")
    users = []
    for capacity, available, preassigned, off_shift in agents:
        user = agent(team, capacity=capacity, available=available)
        if off_shift:
            Shift.objects.create(user=user, weekday=6, start=dt.time(1, 0), end=dt.time(2, 0))
        tickets(team, channel, preassigned, assignee=user)
        users.append((user, capacity, available and not off_shift, preassigned))
    made = []
    for k, minutes in enumerate(waiting):
        [t] = tickets(team, channel, 1, start=NOW - dt.timedelta(minutes=minutes, seconds=k))
        made.append(t)

    result = team_assign(team_id=team.pk, now=NOW)

    got = {u.pk: 0 for u, *_ in users}
    for _, user_id in result:
        got[user_id] += 1
    eligible = {u.pk for u, _, ok, _ in users if ok}
    final = {u.pk: pre + got[u.pk] for u, _, _, pre in users}
    cap = {u.pk: c for u, c, _, _ in users}
    for user, capacity, ok, _ in users:
        # Only eligible agents receive work, and never beyond their capacity.
        if not ok:
            assert got[user.pk] == 0
        assert got[user.pk] == 0 or final[user.pk] <= capacity
    # As much as fits is assigned.
    free = sum(max(0, cap[u] - final[u] + got[u]) for u in eligible)
    assert len(result) == min(len(made), free)
    # Oldest first: every ticket left waiting is younger than every ticket assigned.
    assigned_ids = {pk for pk, _ in result}
    order = sorted(made, key=lambda t: (t.waiting_since, t.pk))
    assert [t.pk for t in order[: len(result)]] == [t.pk for t in order if t.pk in assigned_ids]
    # Fewest open first: an agent who got work never ends more than one above another
    # eligible agent who still has room.
    for b in eligible:
        if got[b]:
            for a in eligible:
                assert final[a] >= final[b] - 1 or final[a] >= cap[a]
    # Every assignment is in the database.
    for pk, user_id in result:
        assert Ticket.objects.get(pk=pk).assignee_id == user_id
    assert timezone.is_aware(NOW)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_runs_for_two_teams_sharing_agents_never_exceed_capacity():
    import threading

    from django.db import connection

    first = Team.objects.create(name="First", assignment="auto")
    second = Team.objects.create(name="Second", assignment="auto")
    channel = make_channel()
    shared = [agent(first, capacity=3) for _ in range(3)]
    for user in shared:
        second.members.add(user)
    tickets(first, channel, 10)
    tickets(second, channel, 10)
    barrier = threading.Barrier(4)
    errors = []

    def run(team_id):
        try:
            barrier.wait()
            team_assign(team_id=team_id, now=NOW)
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(t.pk,)) for t in (first, second, first, second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    for user in shared:
        assert Ticket.objects.filter(assignee=user).count() == 3
    assert Ticket.objects.exclude(assignee=None).count() == 9


def test_a_broker_outage_after_commit_does_not_fail_the_caller(
    team, monkeypatch, django_capture_on_commit_callbacks
):
    from inbox import tasks
    from inbox.engines.assignment import assignment_request

    def down(*args, **kwargs):
        raise ConnectionError("broker down")

    monkeypatch.setattr(tasks.assign_team, "delay", down)
    with django_capture_on_commit_callbacks(execute=True):
        assignment_request(team_id=team.pk)  # logged, left to the periodic sweep

"""Tickets go only to people who may work them, whichever way they are assigned.

One check (``inbox.core.access.assignable_ids``: an active account whose role works tickets) holds
for a lead's single and bulk assignment (``services.assignee_check``), fair auto-assignment and
routing rules. Bulk assignment once skipped it: a lead could hand tickets to a user with no role
or a deactivated account.
"""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from inbox.engines.assignment import team_assign
from inbox.engines.routing import rule_create
from inbox.ingest.services import ingest_batch
from inbox.models import Activity, AgentProfile, Team, Ticket
from inbox.tickets.services import ticket_assign
from tests.factories import item, make_channel
from tests.personas import person, tickets

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def support():
    return Team.objects.create(name="Support")


@pytest.fixture
def lead(support):
    return person("lena", "lead", team=support)


@pytest.fixture
def anna(support):
    return person("anna", team=support)


@pytest.fixture
def nobody(support):
    """A team member whose account has no role (a new hire not set up yet, an ex-agent)."""
    return person("norbert", role=None, team=support)


@pytest.fixture
def gone(support):
    """An agent whose account was deactivated."""
    return person("gina", team=support, is_active=False)


@pytest.fixture
def lead_client(client, lead):
    client.force_login(lead)
    return client


def _assignees(ts):
    return {t.pk: t.assignee_id for t in Ticket.objects.filter(pk__in=[t.pk for t in ts])}


def _bulk_assign(client, ts, to, **extra):
    return client.post(
        reverse("inbox:bulk"),
        {"action": "assign", "ticket": [t.pk for t in ts], "assignee": to, "next": "/"},
        **extra,
    )


def test_bulk_assigning_to_a_user_without_a_role_is_refused_and_changes_no_ticket(
    lead_client, support, anna, nobody
):
    ts = tickets(3, team=support)
    ticket_assign(ticket_id=ts[0].pk, user=anna, assignee=anna)
    before = _assignees(ts)
    response = _bulk_assign(lead_client, ts, nobody.pk)
    assert response.status_code == 400
    assert response.content.decode() == (
        "Norbert has no role that works tickets: they cannot be given tickets."
    )
    assert _assignees(ts) == before
    assert not Activity.objects.filter(verb="assigned", after__assignee=nobody.pk).exists()


def test_bulk_assigning_to_a_deactivated_user_is_refused_and_changes_no_ticket(
    lead_client, support, gone
):
    ts = tickets(3, team=support)
    response = _bulk_assign(lead_client, ts, gone.pk)
    assert response.status_code == 400
    assert "Gina's account is deactivated" in response.content.decode()
    assert set(_assignees(ts).values()) == {None}


def test_a_refused_bulk_assignment_tells_the_lead_why_above_the_list(lead_client, support, nobody):
    ts = tickets(2, team=support)
    response = _bulk_assign(lead_client, ts, nobody.pk, **HTMX)
    assert response["HX-Retarget"] == "#bulk-error"
    assert 'role="alert"' in response.content.decode()
    assert "Norbert has no role that works tickets" in response.content.decode()
    assert set(_assignees(ts).values()) == {None}


def test_bulk_assigning_to_an_unknown_user_unassigns_nobody(lead_client, support, anna):
    ts = tickets(2, team=support)
    for t in ts:
        ticket_assign(ticket_id=t.pk, user=anna, assignee=anna)
    response = _bulk_assign(lead_client, ts, 999_999)
    assert response.status_code == 400
    assert set(_assignees(ts).values()) == {anna.pk}


def test_bulk_assigning_to_an_agent_assigns_every_ticket(lead_client, support, anna):
    ts = tickets(3, team=support)
    _bulk_assign(lead_client, ts, anna.pk)
    assert set(_assignees(ts).values()) == {anna.pk}


@pytest.mark.parametrize("who", ["nobody", "gone"])
def test_assigning_one_ticket_to_someone_who_cannot_work_is_refused(
    request, lead_client, support, who
):
    ticket = tickets(1, team=support)[0]
    target = request.getfixturevalue(who)
    response = lead_client.post(reverse("inbox:assign", args=[ticket.pk]), {"assignee": target.pk})
    assert response.status_code == 409
    assert "cannot be given tickets" in response.content.decode()
    assert Ticket.objects.get(pk=ticket.pk).assignee_id is None


def test_auto_assignment_skips_a_team_member_without_a_role(support, nobody):
    Team.objects.filter(pk=support.pk).update(assignment="auto")
    AgentProfile.objects.filter(user=nobody).update(capacity=5, available=True)
    ts = tickets(2, team=support)
    assert team_assign(team_id=support.pk) == []
    assert set(_assignees(ts).values()) == {None}


def test_a_rule_stops_assigning_to_someone_whose_role_was_taken_away(lead, anna):
    channel = make_channel()
    rule_create(actor=lead, name="Anna's parcels", keywords="parcel", assign_to=anna)

    def ingest(key: str) -> Ticket:
        result = ingest_batch(
            channel_id=channel.pk, items=[item(key, thread=key, text="Where is my parcel?")]
        )
        return Ticket.objects.get(pk__in=result.ticket_ids)

    assert ingest("m1").assignee_id == anna.pk
    anna.groups.remove(Group.objects.get(name="agent"))
    second = ingest("m2")
    assert second.assignee_id is None
    assert second.routing_trace[0]["actions"] == []

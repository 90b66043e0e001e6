"""Roles are read from the cache between requests (inbox/core/auth.py) and every change of roles
takes effect on the very next request."""

import pytest
from django.contrib.auth.models import Group, Permission
from django.urls import reverse

from inbox.models import Team
from tests.personas import person, tickets

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def support():
    return Team.objects.create(name="Support")


@pytest.fixture
def anna(support):
    return person("anna", team=support)


@pytest.fixture
def agent_client(client, anna):
    client.force_login(anna)
    assert client.get(reverse("inbox:index")).status_code == 200  # roles now cached
    return client


def test_an_agent_taken_out_of_the_agent_role_is_forbidden_on_the_next_request(agent_client, anna):
    anna.groups.clear()
    assert agent_client.get(reverse("inbox:index"), **HTMX).status_code == 403


def test_a_role_losing_its_permission_forbids_its_members_on_the_next_request(agent_client):
    Group.objects.get(name="agent").permissions.remove(
        Permission.objects.get(codename="work_tickets")
    )
    assert agent_client.get(reverse("inbox:index"), **HTMX).status_code == 403


def test_an_agent_added_to_a_team_sees_its_tickets_on_the_next_request(agent_client, anna):
    billing = Team.objects.create(name="Billing")
    theirs = tickets(1, team=billing, prefix="b")[0]
    assert f'id="row-{theirs.pk}"' not in agent_client.get(reverse("inbox:index")).content.decode()
    billing.members.add(anna)
    assert f'id="row-{theirs.pk}"' in agent_client.get(reverse("inbox:index")).content.decode()


def test_an_agent_removed_from_their_team_no_longer_sees_its_tickets(agent_client, anna, support):
    ours = tickets(1, team=support, prefix="s")[0]
    support.members.remove(anna)
    assert agent_client.get(reverse("inbox:thread", args=[ours.pk])).status_code == 403


def test_an_agent_made_lead_can_assign_on_the_next_request(agent_client, anna, support):
    ticket = tickets(1, team=support, prefix="l")[0]
    bram = person("bram", team=support)
    assign = reverse("inbox:assign", args=[ticket.pk])
    assert agent_client.post(assign, {"assignee": bram.pk}, **HTMX).status_code == 403
    anna.groups.add(Group.objects.get(name="lead"))
    assert agent_client.post(assign, {"assignee": bram.pk}, **HTMX).status_code == 200

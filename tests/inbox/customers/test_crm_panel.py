"""The CRM panel: signed look-up, escaped attributes, safe links, and a slow or failing CRM
that never breaks the thread."""

import time

import pytest
from django.core.cache import cache

from inbox.models import Customer
from tests.inbox.customers.crm_double import CrmDouble
from tests.personas import person, tickets

pytestmark = pytest.mark.django_db

ANSWER = {
    "Plan": "Gold <b>VIP</b>",
    "Orders": 12,
    "Profile": "https://crm.example/c/42",
    "Bad link": "javascript:alert(1)",
}


@pytest.fixture
def crm(settings):
    double = CrmDouble("crm-secret", dict(ANSWER))
    settings.CRM_LOOKUP_URL = double.url
    settings.CRM_SECRET = "crm-secret"
    settings.WEBHOOKS_ALLOW_PRIVATE = True
    yield double
    double.close()


@pytest.fixture
def agent_client(client):
    client.force_login(person("anna", "lead"))
    return client


def _panel(client, ticket) -> str:
    return client.get(f"/inbox/t/{ticket.pk}/crm/").content.decode()


def test_the_thread_loads_the_panel_lazily_after_rendering(agent_client, crm):
    (ticket,) = tickets(1)
    page = agent_client.get(f"/inbox/t/{ticket.pk}/").content.decode()
    assert f'hx-get="/inbox/t/{ticket.pk}/crm/"' in page
    assert crm.calls == []  # the thread itself never waits for the CRM


def test_the_look_up_is_signed_and_carries_the_identities(agent_client, crm):
    (ticket,) = tickets(1)
    _panel(agent_client, ticket)
    assert crm.bad_signatures == 0
    assert "identity=" in crm.calls[0] and f"customer={ticket.customer_id}" in crm.calls[0]


def test_attributes_are_escaped_and_only_http_links_are_links(agent_client, crm):
    (ticket,) = tickets(1)
    html = _panel(agent_client, ticket)
    assert "Gold &lt;b&gt;VIP&lt;/b&gt;" in html and "<b>VIP" not in html
    assert '<a href="https://crm.example/c/42"' in html
    assert 'href="javascript:' not in html and "javascript:alert(1)" in html


def test_a_good_answer_is_cached(agent_client, crm):
    (ticket,) = tickets(1)
    _panel(agent_client, ticket)
    _panel(agent_client, ticket)
    assert len(crm.calls) == 1


def test_a_failing_crm_shows_the_last_good_value_with_a_quiet_note(agent_client, crm):
    (ticket,) = tickets(1)
    _panel(agent_client, ticket)
    cache.delete(f"crm:fresh:{ticket.customer_id}")
    crm.status = 500
    html = _panel(agent_client, ticket)
    assert "Gold &lt;b&gt;VIP" in html and 'data-crm-note="stale"' in html


def test_a_slow_crm_is_cut_off_by_the_timeout(agent_client, crm):
    (ticket,) = tickets(1)
    crm.delay = 5
    started = time.monotonic()
    html = _panel(agent_client, ticket)
    assert time.monotonic() - started < 3.5
    assert 'data-crm-note="unavailable"' in html


def test_attributes_pushed_through_the_api_are_shown(agent_client, settings):
    settings.CRM_LOOKUP_URL = ""
    (ticket,) = tickets(1)
    Customer.objects.filter(pk=ticket.customer_id).update(attributes={"tier": "<i>gold</i>"})
    html = _panel(agent_client, ticket)
    assert "&lt;i&gt;gold&lt;/i&gt;" in html


def test_an_outsider_cannot_read_the_panel_of_another_teams_ticket(client, crm):
    from inbox.models import Team

    team_a, team_b = Team.objects.create(name="A"), Team.objects.create(name="B")
    (ticket,) = tickets(1, team=team_a)
    client.force_login(person("olga", team=team_b))
    assert client.get(f"/inbox/t/{ticket.pk}/crm/").status_code == 403
    assert crm.calls == []

"""Who holds a ticket, as the thread says it and as replying changes it."""

import pytest
from django.urls import reverse

from inbox.models import Activity, Team, Ticket
from inbox.replies.services import reply_send
from inbox.tickets.services import ActionError, ticket_assign, ticket_claim
from tests.personas import person, tickets

pytestmark = pytest.mark.django_db


@pytest.fixture
def support():
    return Team.objects.create(name="Support")


def _thread(client, ticket) -> str:
    return client.get(reverse("inbox:thread", args=[ticket.pk])).content.decode()


def test_replying_to_a_ticket_nobody_holds_claims_it(support):
    anna = person("anna", team=support)
    ticket = tickets(1, team=support)[0]
    reply_send(ticket_id=ticket.pk, user=anna, text="On its way")
    ticket.refresh_from_db()
    assert ticket.assignee == anna
    assert Activity.objects.filter(ticket=ticket, verb="claimed", actor=anna).exists()


def test_replying_to_a_colleagues_ticket_is_refused_with_their_name(support):
    anna, bob = person("anna", team=support), person("bob", team=support)
    ticket = tickets(1, team=support)[0]
    ticket_claim(ticket_id=ticket.pk, user=anna)
    with pytest.raises(ActionError, match="Anna has this ticket"):
        reply_send(ticket_id=ticket.pk, user=bob, text="Me too")
    assert Ticket.objects.get(pk=ticket.pk).assignee == anna


def test_the_composer_says_what_sending_will_do_before_typing(client, support):
    anna, bob = person("anna", team=support), person("bob", team=support)
    ticket = tickets(1, team=support)[0]
    client.force_login(bob)
    html = _thread(client, ticket)
    assert "Claim and reply" in html and "replying claims it for you" in html
    ticket_claim(ticket_id=ticket.pk, user=anna)
    html = _thread(client, ticket)
    assert "Anna has this ticket: only they can reply. You can add an internal note." in html
    assert "Claim and reply</button>" not in html


def test_a_leads_assignment_reads_assigned_to_and_a_claim_claimed_by(client, support):
    anna = person("anna", team=support)
    lotte = person("lotte", "lead", team=support)
    given, taken = tickets(2, team=support)
    ticket_assign(ticket_id=given.pk, user=lotte, assignee=anna)
    ticket_claim(ticket_id=taken.pk, user=anna)
    client.force_login(anna)
    assert "Assigned to Anna" in _thread(client, given)
    assert "Claimed by Anna" not in _thread(client, given)
    assert "Claimed by Anna" in _thread(client, taken)


# --- bulk actions say what they did -----------------------------------------------------------
HTMX = {"HTTP_HX_REQUEST": "true"}


def test_a_bulk_action_says_what_it_did(client, support):
    client.force_login(person("anna", team=support))
    ids = [t.pk for t in tickets(3, team=support)]
    response = client.post(reverse("inbox:bulk"), {"action": "close", "ticket": ids[:2]}, **HTMX)
    html = response.content.decode()
    assert 'role="status"' in html and "Closed 2 tickets." in html
    assert response["HX-Trigger"] == "inbox:changed"
    response = client.post(
        reverse("inbox:bulk"), {"action": "tag", "tag": "late", "ticket": ids[2:]}, **HTMX
    )
    assert "Tagged 1 ticket “late”." in response.content.decode()


def test_a_bulk_action_with_nothing_ticked_says_so(client, support):
    client.force_login(person("anna", team=support))
    response = client.post(reverse("inbox:bulk"), {"action": "close"}, **HTMX)
    assert 'role="alert"' in response.content.decode()
    assert "Nothing is ticked" in response.content.decode()

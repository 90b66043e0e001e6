"""A failed send is told to its author and to the lead who approved it, on any page."""

import pytest
from django.urls import reverse

from inbox.models import DeliveryState, Message, Team
from inbox.replies import review
from inbox.replies.delivery import message_fail
from inbox.replies.services import reply_send
from tests.personas import person, tickets

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def support():
    return Team.objects.create(name="Support")


def _notice(client) -> str:
    return client.get(reverse("pages:failed_notice"), **HTMX).content.decode()


def test_the_author_sees_the_failure_in_the_top_bar_until_dismissed(client, support):
    anna = person("anna", team=support)
    ticket = tickets(1, team=support)[0]
    reply = reply_send(ticket_id=ticket.pk, user=anna, text="On its way")
    client.force_login(anna)
    assert "could not be sent" not in _notice(client)
    message_fail(message_id=reply.pk, reason="Token expired")
    html = _notice(client)
    assert "A reply of yours could not be sent" in html and f"#{ticket.pk}" in html
    assert "Token expired" in html and 'role="alert"' in html
    assert 'id="failed-notice"' in client.get(reverse("pages:review_mine")).content.decode()
    client.post(reverse("pages:failed_dismiss"), {"upto": reply.pk}, **HTMX)
    assert "could not be sent" not in _notice(client)


def test_the_lead_who_approved_it_sees_it_and_a_colleague_does_not(client, support):
    tim = person("tim", team=support)
    tim.profile.needs_approval = True
    tim.profile.save()
    lotte = person("lotte", "lead", team=support)
    ticket = tickets(1, team=support)[0]
    held = reply_send(ticket_id=ticket.pk, user=tim, text="Refund is on its way")
    assert held.delivery_state == DeliveryState.AWAITING_APPROVAL
    review.reply_approve(message_id=held.pk, lead=lotte)
    message_fail(message_id=held.pk, reason="Rejected by the platform")
    assert Message.objects.get(pk=held.pk).delivery_state == DeliveryState.FAILED
    client.force_login(lotte)
    assert "could not be sent" in _notice(client)
    client.force_login(person("bob", team=support))
    assert "could not be sent" not in _notice(client)

"""Agents hide abusive Facebook comments from the thread, and move a comment thread to DM."""

import pytest
import responses
from django.urls import reverse

from inbox.models import Activity, Message, Team
from tests.personas import person

pytestmark = pytest.mark.django_db


@pytest.fixture
def comment_thread():
    from tests.channels.facebook.support import page_channel
    from tests.channels.facebook.test_send import comment_ticket

    team = Team.objects.create(name="Social")
    agent = person("anna", team=team)
    channel = page_channel()
    ticket = comment_ticket(channel)
    ticket.team = team
    ticket.save(update_fields=["team"])
    return agent, ticket


@responses.activate
def test_an_agent_hides_an_abusive_comment_on_the_platform(client, comment_thread):
    from tests.channels.facebook.support import graph

    agent, ticket = comment_thread
    comment = Message.objects.filter(ticket=ticket, direction="in").first()
    responses.post(graph(comment.external_id), json={"success": True})
    client.force_login(agent)
    page = client.get(reverse("inbox:thread", args=[ticket.pk])).content.decode()
    assert "Hide on platform" in page

    client.post(reverse("inbox:hide", args=[ticket.pk]), {"message": comment.pk, "hidden": "1"})

    comment.refresh_from_db()
    assert comment.hidden is True
    assert Activity.objects.filter(ticket=ticket, verb__startswith="message_hidden").exists()
    assert "is_hidden=true" in responses.calls[0].request.body


def test_the_composer_offers_moving_a_comment_thread_to_dm(client, comment_thread):
    agent, ticket = comment_thread
    client.force_login(agent)
    page = client.get(reverse("inbox:thread", args=[ticket.pk])).content.decode()
    assert "Move to DM (private reply to the commenter)" in page

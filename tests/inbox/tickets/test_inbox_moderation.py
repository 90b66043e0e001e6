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


def _dm_ticket(agent_team, hours_ago: float, **settings):
    import datetime as dt

    from django.utils import timezone

    from inbox.ingest.services import ingest_batch
    from inbox.models import Ticket
    from tests.channels.facebook.support import PAGE_ID, messenger_channel
    from tests.factories import item

    channel = messenger_channel(settings={"page_id": PAGE_ID, **settings})
    ingest_batch(
        channel_id=channel.pk,
        items=[
            item(
                "mid.1",
                thread="dm:6001",
                kind="dm",
                uid="6001",
                at=timezone.now() - dt.timedelta(hours=hours_ago),
            )
        ],
    )
    ticket = Ticket.objects.get(channel=channel)
    ticket.team = agent_team
    ticket.save(update_fields=["team"])
    return ticket


def test_outside_the_24_hour_window_the_composer_says_so_and_refuses_a_plain_reply(client):
    team = Team.objects.create(name="Social")
    agent = person("anna", team=team)
    ticket = _dm_ticket(team, hours_ago=30)
    client.force_login(agent)
    page = client.get(reverse("inbox:thread", args=[ticket.pk])).content.decode()
    assert "More than 24 hours since the customer" in page
    response = client.post(
        reverse("inbox:reply", args=[ticket.pk]), {"text": "Sorry!", "mode": "dm"}
    )
    assert response.status_code in (200, 409)
    assert not Message.objects.filter(ticket=ticket, direction="out").exists()


def test_an_approved_page_can_answer_late_with_the_human_agent_tag(client):
    team = Team.objects.create(name="Social")
    agent = person("anna", team=team)
    ticket = _dm_ticket(team, hours_ago=30, human_agent_approved=True)
    client.force_login(agent)
    client.post(
        reverse("inbox:reply", args=[ticket.pk]),
        {"text": "Sorry for the wait!", "mode": "dm", "option": "HUMAN_AGENT"},
    )
    reply = Message.objects.get(ticket=ticket, direction="out")
    assert reply.send_options == {"tag": "HUMAN_AGENT"}

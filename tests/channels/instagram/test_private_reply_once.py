"""Move to DM: Instagram allows one private reply per comment, within 7 days of it.

Meta: "Private Replies allows your app user to send a single message to an Instagram user who
commented ...", "Private replies can be sent within 7 days of when the comment was created"
(https://developers.facebook.com/documentation/business-messaging/instagram-messaging/features/private-replies,
https://developers.facebook.com/documentation/instagram-platform/private-replies). The send is
``POST /{ig-id}/messages`` with ``recipient={"comment_id": ...}``, answered
``{"recipient_id", "message_id"}``. Webcare refuses the second one itself.
"""

import datetime as dt
import json

import pytest
import responses
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from inbox.models import DeliveryState, Message, PrivateReply, Team
from inbox.replies.delivery import message_deliver
from inbox.replies.services import (
    PrivateReplyRefused,
    composer_state,
    message_retry,
    reply_queue,
    reply_send,
)
from tests.channels.instagram.support import ACCOUNT_ID, C1, IGSID, channel, graph, graph_error
from tests.channels.instagram.test_send import comment_ticket, form
from tests.inbox.api.conftest import bearer
from tests.personas import person

pytestmark = pytest.mark.django_db

PRIVATE_OK = {"recipient_id": IGSID, "message_id": "aWdfZAG1fprivate"}


@pytest.fixture
def agent():
    return person("anna", team=Team.objects.create(name="Social"))


def _ticket(agent, *, days_old=0):
    ticket = comment_ticket(channel(), at=timezone.now() - dt.timedelta(days=days_old))
    ticket.team = Team.objects.get(name="Social")
    ticket.save(update_fields=["team"])
    return ticket


def _private_sent(ticket, agent):
    responses.post(graph(f"{ACCOUNT_ID}/messages"), json=PRIVATE_OK)
    message = reply_queue(
        ticket=ticket, author=agent, text="Sent you the size chart!", mode="private"
    )
    assert message_deliver(message_id=message.pk) == "sent"
    return message


@responses.activate
def test_a_comment_answered_privately_is_not_offered_move_to_dm_again_and_the_composer_says_when(
    agent,
):
    ticket = _ticket(agent)
    sent = _private_sent(ticket, agent)
    sent.refresh_from_db()
    state = composer_state(ticket)
    assert "private" not in state.modes
    assert "public" in state.modes
    when = f"{timezone.localtime(sent.sent_at):%Y-%m-%d %H:%M}"
    assert state.notes == (f"This comment was already answered privately on {when}.",)


@responses.activate
def test_the_thread_view_shows_why_move_to_dm_is_gone(client, agent):
    ticket = _ticket(agent)
    _private_sent(ticket, agent)
    client.force_login(agent)
    page = client.get(reverse("inbox:thread", args=[ticket.pk])).content.decode()
    assert 'value="private"' not in page
    assert "This comment was already answered privately on" in page


@responses.activate
def test_a_second_private_reply_is_refused_before_anything_is_sent(agent):
    ticket = _ticket(agent)
    _private_sent(ticket, agent)
    with pytest.raises(PrivateReplyRefused, match="already answered privately"):
        reply_queue(ticket=ticket, author=agent, text="And another thing", mode="private")
    assert Message.objects.filter(ticket=ticket, reply_mode="private").count() == 1
    assert len(responses.calls) == 1


def test_the_composer_refuses_a_second_private_reply_while_the_first_is_queued(agent):
    ticket = _ticket(agent)
    reply_send(ticket_id=ticket.pk, user=agent, text="Check your DMs", mode="private")
    with pytest.raises(PrivateReplyRefused, match="already being sent"):
        reply_send(ticket_id=ticket.pk, user=agent, text="Check your DMs", mode="private")
    assert Message.objects.filter(ticket=ticket, reply_mode="private").count() == 1


def test_a_comment_older_than_7_days_offers_no_move_to_dm_and_says_why(agent):
    ticket = _ticket(agent, days_old=8)
    state = composer_state(ticket)
    assert state.modes == ("public",)
    assert "within 7 days of the comment" in state.notes[0]
    with pytest.raises(PrivateReplyRefused, match="within 7 days"):
        reply_send(ticket_id=ticket.pk, user=agent, text="DM?", mode="private")
    assert not Message.objects.filter(ticket=ticket, reply_mode="private").exists()


def test_a_comment_6_days_old_still_offers_move_to_dm(agent):
    ticket = _ticket(agent, days_old=6)
    state = composer_state(ticket)
    assert state.modes == ("public", "private")
    assert state.notes == ()


def test_the_api_refuses_a_second_private_reply_with_409_and_the_reason(client, agent):
    ticket = _ticket(agent)
    url = f"/api/v1/tickets/{ticket.pk}/reply"
    body = {"text": "Sent you a DM", "mode": "private"}
    first = client.post(url, body, content_type="application/json", **bearer(agent))
    second = client.post(url, body, content_type="application/json", **bearer(agent))
    assert first.status_code == 200
    assert second.status_code == 409
    assert "already being sent" in second.json()["message"]


@responses.activate
def test_a_private_reply_instagram_refused_for_good_frees_the_comment_again(agent):
    ticket = _ticket(agent)
    # The comment was deleted meanwhile: code 100, "does not exist" (Graph error shape).
    responses.post(
        graph(f"{ACCOUNT_ID}/messages"),
        json=graph_error(100, "Unsupported post request. Object with ID does not exist"),
        status=400,
    )
    message = reply_queue(ticket=ticket, author=agent, text="DM?", mode="private")
    assert message_deliver(message_id=message.pk) == "failed"
    assert not PrivateReply.objects.exists()
    assert "private" in composer_state(ticket).modes


def test_a_private_reply_with_an_unknown_outcome_keeps_the_comment_claimed(agent):
    from inbox.replies.delivery import message_fail

    ticket = _ticket(agent)
    message = reply_queue(ticket=ticket, author=agent, text="DM?", mode="private")
    message_fail(message_id=message.pk, reason="Gave up after retries: timeout")
    state = composer_state(ticket)
    assert "private" not in state.modes
    assert "outcome is unknown" in state.notes[0]


def test_retrying_a_refused_private_reply_is_refused_once_the_comment_was_answered(agent):
    ticket = _ticket(agent)
    message = reply_queue(ticket=ticket, author=agent, text="DM?", mode="private")
    Message.objects.filter(pk=message.pk).update(delivery_state=DeliveryState.FAILED)
    PrivateReply.objects.filter(message=message).delete()  # refused for good earlier
    other = reply_queue(ticket=ticket, author=agent, text="Second try", mode="private")
    Message.objects.filter(pk=other.pk).update(delivery_state=DeliveryState.SENT)
    with pytest.raises(PrivateReplyRefused, match="already answered privately"):
        message_retry(message_id=message.pk, user=agent)


def test_the_database_holds_one_private_reply_per_comment(agent):
    ticket = _ticket(agent)
    first = reply_queue(ticket=ticket, author=agent, text="One", mode="public")
    second = reply_queue(ticket=ticket, author=agent, text="Two", mode="public")
    PrivateReply.objects.create(channel_id=ticket.channel_id, comment_id=C1, message=first)
    with pytest.raises(IntegrityError), transaction.atomic():
        PrivateReply.objects.create(channel_id=ticket.channel_id, comment_id=C1, message=second)


@responses.activate
def test_the_private_reply_answers_the_comment_it_was_queued_for(agent):
    from inbox.ingest.services import ingest_batch
    from tests.factories import item

    ticket = _ticket(agent)
    responses.post(graph(f"{ACCOUNT_ID}/messages"), json=PRIVATE_OK)
    message = reply_queue(ticket=ticket, author=agent, text="DM you", mode="private")
    # A reply to the comment arrives before the send runs: the DM still answers C1.
    ingest_batch(
        channel_id=ticket.channel_id,
        items=[item("17870000000000099", thread=f"comment:{C1}", kind="comment", uid="99")],
    )
    assert message_deliver(message_id=message.pk) == "sent"
    assert json.loads(form(responses.calls[0])["recipient"]) == {"comment_id": C1}

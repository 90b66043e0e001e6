"""Replies of every kind go out through the right endpoint, once, with truthful states."""

import datetime as dt
import json
from urllib.parse import parse_qs

import pytest
import responses
from django.contrib.auth import get_user_model
from django.utils import timezone

from channels.instagram.connector import InstagramConnector
from channels.models import Channel, HealthState
from inbox.ingest.services import ingest_batch
from inbox.models import Activity, DeliveryState, Message, Ticket
from inbox.replies.delivery import message_deliver
from inbox.replies.services import reply_queue
from inbox.tickets.moderation import message_set_hidden
from tests.channels.instagram.support import (
    ACCOUNT_ID,
    C1,
    HANDLE,
    IGSID,
    channel,
    graph,
    graph_error,
)
from tests.factories import item

pytestmark = pytest.mark.django_db


@pytest.fixture
def agent():
    return get_user_model().objects.create_user("anna.agent", password="x")


def comment_ticket(ch, *, at=None):
    ingest_batch(
        channel_id=ch.pk,
        items=[
            item(
                C1,
                thread=f"comment:{C1}",
                kind="comment",
                uid=IGSID,
                at=at,
                text="Is this in size M?",
            )
        ],
    )
    return Ticket.objects.get(channel=ch, thread_key=f"comment:{C1}")


def dm_ticket(ch, *, at=None):
    ingest_batch(
        channel_id=ch.pk, items=[item("m_in_1", thread=f"dm:{IGSID}", kind="dm", uid=IGSID, at=at)]
    )
    return Ticket.objects.get(channel=ch, thread_key=f"dm:{IGSID}")


def form(call) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(call.request.body).items()}


# --- comments --------------------------------------------------------------------------------
@responses.activate
def test_a_public_reply_goes_to_the_comments_replies_once(agent):
    ch = channel()
    ticket = comment_ticket(ch)
    # POST /{ig-comment-id}/replies answers {"id": ...} (Instagram comment moderation guide).
    responses.post(graph(f"{C1}/replies"), json={"id": "17882000000000042"})
    message = reply_queue(ticket=ticket, author=agent, text="Yes, size M is in stock!")
    assert message_deliver(message_id=message.pk) == "sent"
    assert message_deliver(message_id=message.pk).startswith("nothing to do")
    assert len(responses.calls) == 1
    assert form(responses.calls[0])["message"] == "Yes, size M is in stock!"
    message.refresh_from_db()
    assert message.external_id == "17882000000000042"


@responses.activate
def test_a_resumed_public_reply_finds_the_earlier_one_instead_of_posting_again(agent):
    ch = channel()
    ticket = comment_ticket(ch)
    message = reply_queue(ticket=ticket, author=agent, text="Yes, size M is in stock!")
    Message.objects.filter(pk=message.pk).update(
        delivery_state=DeliveryState.SENDING,
        delivery_changed_at=timezone.now() - dt.timedelta(minutes=10),
    )
    posted = (timezone.now() + dt.timedelta(seconds=5)).strftime("%Y-%m-%dT%H:%M:%S+0000")
    responses.get(
        graph(f"{C1}/replies"),
        json={
            "data": [
                {
                    "id": "17882000000000042",
                    "text": "Yes, size M is in stock!",
                    "timestamp": posted,
                    "from": {"id": ACCOUNT_ID, "username": HANDLE},
                    "username": HANDLE,
                }
            ]
        },
    )
    assert message_deliver(message_id=message.pk) == "sent (found earlier attempt)"
    assert not any(c.request.method == "POST" for c in responses.calls)


@responses.activate
def test_a_comment_deleted_before_we_answer_fails_the_reply_with_metas_reason(agent):
    ch = channel()
    ticket = comment_ticket(ch)
    responses.post(
        graph(f"{C1}/replies"),
        json=graph_error(100, "Unsupported post request. Object with ID does not exist", 33),
        status=400,
    )
    message = reply_queue(ticket=ticket, author=agent, text="Hello")
    assert message_deliver(message_id=message.pk) == "failed"
    message.refresh_from_db()
    assert message.delivery_state == DeliveryState.FAILED
    assert "does not exist" in message.failure_reason
    assert Channel.objects.get(pk=ch.pk).health_state == HealthState.OK


@responses.activate
def test_move_to_dm_sends_one_private_reply_to_the_comment(agent):
    ch = channel()
    ticket = comment_ticket(ch)
    # Private replies: POST /{ig-id}/messages, recipient={"comment_id": ...}
    # (https://developers.facebook.com/documentation/instagram-platform/private-replies).
    responses.post(
        graph(f"{ACCOUNT_ID}/messages"),
        json={"recipient_id": IGSID, "message_id": "aWdfZAG1fprivate"},
    )
    message = reply_queue(
        ticket=ticket, author=agent, text="Sent you the size chart!", mode="private"
    )
    assert message_deliver(message_id=message.pk) == "sent"
    sent = form(responses.calls[0])
    assert json.loads(sent["recipient"]) == {"comment_id": C1}
    assert json.loads(sent["message"]) == {"text": "Sent you the size chart!"}
    assert len(responses.calls) == 1


def test_the_composer_offers_a_private_reply_only_within_7_days_of_the_comment():
    connector = InstagramConnector(channel().context())
    fresh = connector.reply_window(
        ticket_kind="comment", last_inbound_at=timezone.now() - dt.timedelta(days=6)
    )
    old = connector.reply_window(
        ticket_kind="comment", last_inbound_at=timezone.now() - dt.timedelta(days=8)
    )
    assert fresh.allowed and "Move to DM" in fresh.reason
    assert old.allowed and "Public reply only" in old.reason


@responses.activate
def test_hiding_a_comment_is_a_platform_call_and_an_audited_action(agent):
    ch = channel()
    ticket = comment_ticket(ch)
    responses.post(graph(C1), json={"success": True})
    message = ticket.messages.get()
    message_set_hidden(message=message, actor=agent, hidden=True)
    assert form(responses.calls[0])["hide"] == "true"
    message.refresh_from_db()
    assert message.hidden
    assert Activity.objects.filter(ticket=ticket, verb="message_hidden", actor=agent).exists()


# --- DMs -----------------------------------------------------------------------------------
@responses.activate
def test_a_dm_inside_24_hours_goes_to_the_send_api_once(agent):
    ch = channel()
    ticket = dm_ticket(ch, at=timezone.now() - dt.timedelta(hours=2))
    responses.post(
        graph(f"{ACCOUNT_ID}/messages"),
        json={"recipient_id": IGSID, "message_id": "aWdfZAG1fdm1"},
    )
    message = reply_queue(ticket=ticket, author=agent, text="We ship to Belgium!", mode="dm")
    assert message_deliver(message_id=message.pk) == "sent"
    assert message_deliver(message_id=message.pk).startswith("nothing to do")
    sent = form(responses.calls[0])
    assert json.loads(sent["recipient"]) == {"id": IGSID}
    assert "tag" not in sent


def test_after_24_hours_the_composer_says_why_and_offers_the_human_agent_tag():
    approved = channel(settings={"account_id": ACCOUNT_ID, "human_agent_approved": True})
    window = InstagramConnector(approved.context()).reply_window(
        ticket_kind="dm", last_inbound_at=timezone.now() - dt.timedelta(hours=30)
    )
    assert not window.allowed
    assert "24 hours" in window.reason
    assert window.options == ("HUMAN_AGENT",)
    plain = channel(settings={"account_id": ACCOUNT_ID})
    closed = InstagramConnector(plain.context()).reply_window(
        ticket_kind="dm", last_inbound_at=timezone.now() - dt.timedelta(hours=30)
    )
    assert not closed.allowed and closed.options == ()


@responses.activate
def test_a_human_agent_reply_carries_the_tag_where_approved(agent):
    ch = channel(settings={"account_id": ACCOUNT_ID, "human_agent_approved": True})
    ticket = dm_ticket(ch, at=timezone.now() - dt.timedelta(days=3))
    responses.post(
        graph(f"{ACCOUNT_ID}/messages"), json={"recipient_id": IGSID, "message_id": "aWdfZAG1fdm2"}
    )
    message = reply_queue(
        ticket=ticket,
        author=agent,
        text="Sorry for the wait!",
        mode="dm",
        options={"tag": "HUMAN_AGENT"},
    )
    assert message_deliver(message_id=message.pk) == "sent"
    sent = form(responses.calls[0])
    assert sent["messaging_type"] == "MESSAGE_TAG"
    assert sent["tag"] == "HUMAN_AGENT"


@responses.activate
def test_a_dm_meta_refuses_as_outside_the_window_fails_with_the_reason(agent):
    ch = channel()
    ticket = dm_ticket(ch, at=timezone.now() - dt.timedelta(hours=2))
    responses.post(
        graph(f"{ACCOUNT_ID}/messages"),
        json=graph_error(10, "This message is sent outside of allowed window.", 2534022),
        status=400,
    )
    message = reply_queue(ticket=ticket, author=agent, text="Hi", mode="dm")
    assert message_deliver(message_id=message.pk) == "failed"
    message.refresh_from_db()
    assert "Outside Instagram's 24-hour reply window" in message.failure_reason


@responses.activate
def test_a_revoked_token_fails_the_reply_and_flags_the_channel_at_once(agent):
    ch = channel()
    ticket = dm_ticket(ch, at=timezone.now() - dt.timedelta(hours=2))
    responses.post(
        graph(f"{ACCOUNT_ID}/messages"),
        json=graph_error(
            190, "Error validating access token: The session has been invalidated", 460
        ),
        status=400,
    )
    other = channel(
        own_account_id="17841400000000002", settings={"account_id": "17841400000000002"}
    )
    message = reply_queue(ticket=ticket, author=agent, text="Hi", mode="dm")
    message_deliver(message_id=message.pk)
    ch.refresh_from_db()
    assert ch.health_state == HealthState.NEEDS_RECONNECT
    assert "Reconnect the Instagram account" in ch.last_error
    assert Channel.objects.get(pk=other.pk).health_state == HealthState.OK

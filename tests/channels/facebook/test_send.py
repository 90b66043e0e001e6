"""Replies: comment replies, Messenger's 24-hour window, private replies, hiding comments."""

import datetime as dt
import json
from urllib.parse import parse_qs

import pytest
import responses
from django.contrib.auth import get_user_model
from django.utils import timezone

from channels.base import PermanentError
from channels.facebook.connector import MessengerConnector
from inbox.ingest.services import ingest_batch
from inbox.models import Activity, DeliveryState, Identity, Message, Ticket
from inbox.replies.delivery import message_deliver
from inbox.replies.services import reply_queue
from inbox.tickets.moderation import message_set_hidden
from tests.channels.facebook.support import (
    C1,
    PAGE_ID,
    POST_ID,
    PSID,
    R2,
    graph,
    load,
    messenger_channel,
    page_channel,
)
from tests.factories import item

pytestmark = pytest.mark.django_db


@pytest.fixture
def agent():
    return get_user_model().objects.create_user("anna.agent", password="x")


def comment_ticket(channel, *, comment_id=C1, uid="7001000000000001"):
    ingest_batch(
        channel_id=channel.pk,
        items=[
            item(
                comment_id,
                thread=f"comment:{comment_id}",
                kind="comment",
                uid=uid,
                text="The blue coat is sold out already?",
                parent_external_id=POST_ID,
            )
        ],
    )
    return Ticket.objects.get(channel=channel, thread_key=f"comment:{comment_id}")


def dm_ticket(channel, *, at=None):
    ingest_batch(
        channel_id=channel.pk,
        items=[item("m_in_1", thread=f"dm:{PSID}", kind="dm", uid=PSID, at=at)],
    )
    return Ticket.objects.get(channel=channel, thread_key=f"dm:{PSID}")


def form(call) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(call.request.body).items()}


# --- comments -------------------------------------------------------------------------------
@responses.activate
def test_a_comment_reply_is_posted_once_under_the_top_level_comment(agent):
    channel = page_channel()
    ticket = comment_ticket(channel)
    responses.post(graph(f"{C1}/comments"), json=load("comment_reply_ok.json"))
    message = reply_queue(ticket=ticket, author=agent, text="Back in stock on Friday!")
    assert message_deliver(message_id=message.pk) == "sent"
    assert message_deliver(message_id=message.pk).startswith("nothing to do")
    assert len(responses.calls) == 1
    assert form(responses.calls[0])["message"] == "Back in stock on Friday!"
    message.refresh_from_db()
    assert message.delivery_state == DeliveryState.SENT
    assert message.external_id == "900000000000001_1110000000000099"


@responses.activate
def test_a_resumed_send_finds_the_earlier_comment_instead_of_posting_again(agent):
    channel = page_channel()
    ticket = comment_ticket(channel)
    message = reply_queue(ticket=ticket, author=agent, text="Back in stock on Friday!")
    Message.objects.filter(pk=message.pk).update(
        # An attempt that was cut off long enough ago to be certainly over.
        delivery_state=DeliveryState.SENDING,
        delivery_changed_at=timezone.now() - dt.timedelta(minutes=10),
    )
    posted_at = (timezone.now() + dt.timedelta(seconds=5)).strftime("%Y-%m-%dT%H:%M:%S+0000")
    responses.get(
        graph(f"{C1}/comments"),
        json={
            "data": [
                {
                    "id": "900000000000001_1110000000000099",
                    "from": {"id": PAGE_ID, "name": "Webcare Demo Shop"},
                    "message": "Back in stock on Friday!",
                    "created_time": posted_at,
                }
            ],
            "paging": {"cursors": {}},
        },
    )
    assert message_deliver(message_id=message.pk) == "sent (found earlier attempt)"
    assert not any(c.request.method == "POST" for c in responses.calls)


@responses.activate
def test_a_refused_comment_reply_fails_with_metas_reason(agent):
    channel = page_channel()
    ticket = comment_ticket(channel)
    responses.post(
        graph(f"{C1}/comments"),
        json={
            "error": {"message": "(#100) Invalid parameter", "type": "OAuthException", "code": 100}
        },
        status=400,
    )
    message = reply_queue(ticket=ticket, author=agent, text="Hello")
    assert message_deliver(message_id=message.pk) == "failed"
    message.refresh_from_db()
    assert message.delivery_state == DeliveryState.FAILED
    assert "Invalid parameter" in message.failure_reason


# --- Messenger: the 24-hour window ------------------------------------------------------------
def test_inside_24_hours_the_composer_may_reply():
    channel = messenger_channel()
    window = MessengerConnector(channel.context()).reply_window(
        ticket_kind="dm", last_inbound_at=timezone.now() - dt.timedelta(hours=23)
    )
    assert window.allowed
    assert window.closes_at is not None


def test_after_24_hours_the_composer_says_so_before_the_agent_types():
    channel = messenger_channel()
    window = MessengerConnector(channel.context()).reply_window(
        ticket_kind="dm", last_inbound_at=timezone.now() - dt.timedelta(hours=25)
    )
    assert not window.allowed
    assert "24 hours" in window.reason
    assert window.options == ()


def test_after_24_hours_an_approved_page_is_offered_the_human_agent_tag():
    channel = messenger_channel(settings={"page_id": PAGE_ID, "human_agent_approved": "on"})
    window = MessengerConnector(channel.context()).reply_window(
        ticket_kind="dm", last_inbound_at=timezone.now() - dt.timedelta(days=3)
    )
    assert not window.allowed
    assert window.options == ("HUMAN_AGENT",)
    assert "Human Agent" in window.reason


def test_after_7_days_not_even_the_human_agent_tag_is_offered():
    channel = messenger_channel(settings={"page_id": PAGE_ID, "human_agent_approved": "on"})
    window = MessengerConnector(channel.context()).reply_window(
        ticket_kind="dm", last_inbound_at=timezone.now() - dt.timedelta(days=8)
    )
    assert not window.allowed and window.options == ()


@responses.activate
def test_a_messenger_reply_goes_to_the_send_api_once_as_a_response(agent):
    channel = messenger_channel()
    ticket = dm_ticket(channel)
    responses.post(graph(f"{PAGE_ID}/messages"), json=load("send_message_ok.json"))
    message = reply_queue(ticket=ticket, author=agent, text="It ships today.", mode="dm")
    assert message_deliver(message_id=message.pk) == "sent"
    assert len(responses.calls) == 1
    sent = form(responses.calls[0])
    assert sent["messaging_type"] == "RESPONSE"
    assert json.loads(sent["recipient"]) == {"id": PSID}
    assert json.loads(sent["message"]) == {"text": "It ships today."}
    assert "tag" not in sent
    message.refresh_from_db()
    assert message.external_id == "m_sent0000000000000000000000000000000001"


@responses.activate
def test_outside_the_window_meta_refuses_and_the_reply_fails_with_a_clear_reason(agent):
    channel = messenger_channel()
    ticket = dm_ticket(channel, at=timezone.now() - dt.timedelta(hours=30))
    responses.post(
        graph(f"{PAGE_ID}/messages"), json=load("error_10_outside_window.json"), status=400
    )
    message = reply_queue(ticket=ticket, author=agent, text="Sorry for the wait", mode="dm")
    assert message_deliver(message_id=message.pk) == "failed"
    message.refresh_from_db()
    assert message.delivery_state == DeliveryState.FAILED
    assert "24-hour reply window" in message.failure_reason
    assert len(responses.calls) == 1  # a permanent refusal is not retried


@responses.activate
def test_the_human_agent_tag_is_sent_as_a_message_tag_when_the_page_is_approved(agent):
    channel = messenger_channel(settings={"page_id": PAGE_ID, "human_agent_approved": "on"})
    ticket = dm_ticket(channel, at=timezone.now() - dt.timedelta(days=2))
    responses.post(graph(f"{PAGE_ID}/messages"), json=load("send_message_ok.json"))
    message = reply_queue(
        ticket=ticket,
        author=agent,
        text="Your refund is on its way.",
        mode="dm",
        options={"tag": "HUMAN_AGENT"},
    )
    assert message_deliver(message_id=message.pk) == "sent"
    sent = form(responses.calls[0])
    assert sent["messaging_type"] == "MESSAGE_TAG" and sent["tag"] == "HUMAN_AGENT"


@responses.activate
def test_the_human_agent_tag_is_refused_without_calling_meta_when_not_approved(agent):
    channel = messenger_channel()
    ticket = dm_ticket(channel, at=timezone.now() - dt.timedelta(days=2))
    message = reply_queue(
        ticket=ticket, author=agent, text="Hi", mode="dm", options={"tag": "HUMAN_AGENT"}
    )
    assert message_deliver(message_id=message.pk) == "failed"
    message.refresh_from_db()
    assert "human_agent_approved" in message.failure_reason
    assert len(responses.calls) == 0


@responses.activate
def test_a_resumed_dm_send_finds_the_earlier_message(agent):
    channel = messenger_channel()
    ticket = dm_ticket(channel)
    message = reply_queue(ticket=ticket, author=agent, text="It ships today.", mode="dm")
    Message.objects.filter(pk=message.pk).update(
        # An attempt that was cut off long enough ago to be certainly over.
        delivery_state=DeliveryState.SENDING,
        delivery_changed_at=timezone.now() - dt.timedelta(minutes=10),
    )
    now = timezone.now().strftime("%Y-%m-%dT%H:%M:%S+0000")
    responses.get(
        graph(f"{PAGE_ID}/conversations"),
        json={
            "data": [
                {
                    "id": "t_1",
                    "messages": {
                        "data": [
                            {
                                "id": "m_earlier",
                                "message": "It ships today.",
                                "from": {"id": PAGE_ID},
                                "created_time": now,
                            }
                        ]
                    },
                }
            ]
        },
    )
    assert message_deliver(message_id=message.pk) == "sent (found earlier attempt)"
    assert f"user_id={PSID}" in responses.calls[0].request.url
    message.refresh_from_db()
    assert message.external_id == "m_earlier"


# --- move to DM -----------------------------------------------------------------------------
@responses.activate
def test_a_private_reply_goes_to_the_commenter_and_their_dm_joins_the_same_customer(
    agent, run_tasks_now
):
    page = page_channel()
    messenger = messenger_channel()
    ticket = comment_ticket(page)
    responses.post(graph(f"{PAGE_ID}/messages"), json=load("private_reply_ok.json"))
    message = reply_queue(
        ticket=ticket,
        author=agent,
        text="Could you send us your order number?",
        mode="private",
    )
    assert message_deliver(message_id=message.pk) == "sent"
    sent = form(responses.calls[0])
    assert json.loads(sent["recipient"]) == {"comment_id": C1}
    assert len(responses.calls) == 1

    psid = load("private_reply_ok.json")["recipient_id"]
    ingest_batch(
        channel_id=messenger.pk,
        items=[item("m_answer", thread=f"dm:{psid}", kind="dm", uid=psid, text="It's 48213")],
    )
    dm = Ticket.objects.get(channel=messenger)
    assert dm.customer_id == ticket.customer_id
    assert Identity.objects.filter(customer=ticket.customer).count() == 2


def test_a_known_messenger_contact_is_linked_to_the_commenter_as_the_same_person(run_tasks_now):
    from channels.facebook.tasks import link_private_reply

    page = page_channel()
    messenger = messenger_channel()
    ticket = comment_ticket(page)
    ingest_batch(channel_id=messenger.pk, items=[item("m_old", thread="dm:2451", uid="2451")])
    other = Identity.objects.get(platform_user_id="2451").customer
    link_private_reply(page.pk, "7001000000000001", "2451")
    other.refresh_from_db()
    assert other.merged_into_id == ticket.customer_id


# --- hiding ---------------------------------------------------------------------------------
@responses.activate
def test_an_agent_hides_an_abusive_comment_on_facebook_and_in_the_thread(agent):
    channel = page_channel()
    ticket = comment_ticket(channel)
    comment = ticket.messages.get()
    responses.post(graph(C1), json=load("hide_ok.json"))
    message_set_hidden(message=comment, actor=agent, hidden=True)
    assert form(responses.calls[0])["is_hidden"] == "true"
    comment.refresh_from_db()
    assert comment.hidden is True
    log = Activity.objects.get(verb="message_hidden")
    assert log.actor == agent and log.after["message"] == comment.pk


@responses.activate
def test_unhiding_shows_the_comment_again(agent):
    channel = page_channel()
    comment = comment_ticket(channel).messages.get()
    responses.post(graph(C1), json=load("hide_ok.json"))
    message_set_hidden(message=comment, actor=agent, hidden=True)
    message_set_hidden(message=comment, actor=agent, hidden=False)
    comment.refresh_from_db()
    assert comment.hidden is False
    assert form(responses.calls[1])["is_hidden"] == "false"
    assert Activity.objects.filter(verb="message_unhidden").count() == 1


@responses.activate
def test_a_failed_hide_changes_nothing(agent):
    channel = page_channel()
    comment = comment_ticket(channel).messages.get()
    responses.post(graph(C1), json=load("error_190.json"), status=400)
    with pytest.raises(Exception, match="Reconnect the Page"):
        message_set_hidden(message=comment, actor=agent, hidden=True)
    comment.refresh_from_db()
    assert comment.hidden is False


def test_messenger_messages_cannot_be_hidden(agent):
    channel = messenger_channel()
    dm = dm_ticket(channel).messages.get()
    with pytest.raises(PermanentError):
        message_set_hidden(message=dm, actor=agent, hidden=True)


@responses.activate
def test_move_to_dm_can_answer_a_chosen_comment_of_the_thread(agent, run_tasks_now):
    page = page_channel()
    ticket = comment_ticket(page)
    ingest_batch(
        channel_id=page.pk,
        items=[item(R2, thread=f"comment:{C1}", kind="comment", uid="7001000000000002")],
    )
    responses.post(graph(f"{PAGE_ID}/messages"), json=load("private_reply_ok.json"))
    message = reply_queue(
        ticket=ticket,
        author=agent,
        text="Let's sort this out in Messenger",
        mode="private",
        options={"comment_id": C1, "commenter_id": "7001000000000001"},
    )
    assert message_deliver(message_id=message.pk) == "sent"
    assert json.loads(form(responses.calls[0])["recipient"]) == {"comment_id": C1}
    psid = load("private_reply_ok.json")["recipient_id"]
    anna = Identity.objects.get(platform_user_id="7001000000000001").customer
    assert Identity.objects.get(platform_user_id=psid).customer == anna


@responses.activate
def test_a_token_error_during_a_send_marks_the_channel_needs_reconnect_at_once(agent):
    from channels.models import HealthState

    channel = messenger_channel()
    ticket = dm_ticket(channel)
    responses.post(graph(f"{PAGE_ID}/messages"), json=load("error_190.json"), status=400)
    message = reply_queue(ticket=ticket, author=agent, text="Your order ships today.", mode="dm")
    assert message_deliver(message_id=message.pk) == "failed"
    channel.refresh_from_db()
    assert channel.health_state == HealthState.NEEDS_RECONNECT
    assert "error 190/460" in channel.last_error
    assert "password was changed" in channel.last_error


@responses.activate
def test_a_refused_reply_that_is_not_about_the_token_leaves_the_channel_healthy(agent):
    from channels.models import HealthState

    channel = page_channel()
    ticket = comment_ticket(channel)
    responses.post(
        graph(f"{C1}/comments"),
        json={
            "error": {"message": "(#100) Invalid parameter", "type": "OAuthException", "code": 100}
        },
        status=400,
    )
    message = reply_queue(ticket=ticket, author=agent, text="Hello")
    assert message_deliver(message_id=message.pk) == "failed"
    channel.refresh_from_db()
    assert channel.health_state == HealthState.OK

"""Meta webhooks: the handshake, signatures, and events stored through the poll's normaliser."""

import json

import pytest
import responses

from channels.facebook.connector import FacebookPageConnector
from channels.facebook.normalize import comment_item
from channels.models import DeliveryState, WebhookDelivery
from inbox.ingest.services import ingest_batch
from inbox.models import Activity, Direction, Message, Ticket
from tests.channels.facebook.support import (
    C1,
    C3,
    PAGE_ID,
    POST_ID,
    PSID,
    SINCE,
    VERIFY_TOKEN,
    graph,
    load,
    messenger_channel,
    page_channel,
    raw,
    signed,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("meta_settings")]


def post(client, name_or_body, headers=None, url="/webhooks/facebook/"):
    body = raw(name_or_body) if isinstance(name_or_body, str) else name_or_body
    return client.post(
        url,
        data=body,
        content_type="application/json",
        **(signed(body) if headers is None else headers),
    )


# --- handshake ------------------------------------------------------------------------------
def test_the_subscription_handshake_echoes_the_challenge(client):
    response = client.get(
        "/webhooks/facebook/",
        {"hub.mode": "subscribe", "hub.verify_token": VERIFY_TOKEN, "hub.challenge": "1158201444"},
    )
    assert response.status_code == 200
    assert response.content == b"1158201444"
    assert response["Content-Type"].startswith("text/plain")


def test_the_handshake_with_a_wrong_verify_token_is_refused(client):
    response = client.get(
        "/webhooks/messenger/",
        {"hub.mode": "subscribe", "hub.verify_token": "guess", "hub.challenge": "1158201444"},
    )
    assert response.status_code == 403
    assert b"1158201444" not in response.content


# --- signatures -----------------------------------------------------------------------------
def test_a_correctly_signed_delivery_is_stored_and_processed(client, run_tasks_now):
    channel = page_channel()
    response = post(client, "webhook_comment_add.json")
    assert response.status_code == 200
    delivery = WebhookDelivery.objects.get()
    assert delivery.kind == "facebook" and delivery.state == DeliveryState.PROCESSED
    assert list(delivery.channels.all()) == [channel]
    assert bytes(delivery.body) == raw("webhook_comment_add.json")


def test_a_replayed_delivery_is_acknowledged_but_not_processed_again(client, run_tasks_now):
    page_channel()
    assert post(client, "webhook_comment_add.json").status_code == 200
    Message.objects.all().delete()  # so a second processing would show
    assert post(client, "webhook_comment_add.json").status_code == 200
    assert post(client, "webhook_comment_add.json", url="/webhooks/messenger/").status_code == 200
    assert WebhookDelivery.objects.count() == 1
    assert WebhookDelivery.objects.get().attempts == 1
    assert not Message.objects.exists()


def test_a_delivery_with_a_wrong_signature_is_refused_and_stores_nothing(client, run_tasks_now):
    page_channel()
    body = raw("webhook_comment_add.json")
    response = post(client, body, headers=signed(body, secret="someone-else"))
    assert response.status_code == 403
    assert run_tasks_now == []
    assert Message.objects.count() == 0


def test_a_delivery_without_a_signature_is_refused(client, run_tasks_now):
    page_channel()
    response = post(client, "webhook_comment_add.json", headers={})
    assert response.status_code == 403
    assert run_tasks_now == []


def test_a_signature_over_a_different_body_is_refused(client, run_tasks_now):
    page_channel()
    body = raw("webhook_comment_add.json")
    tampered = body.replace(b"Belgium", b"Belgiun")
    response = post(client, tampered, headers=signed(body))
    assert response.status_code == 403


def test_without_an_app_secret_every_delivery_is_refused(client, settings, run_tasks_now):
    settings.META_APP_SECRET = ""
    page_channel()
    response = post(client, "webhook_comment_add.json")
    assert response.status_code == 403


def test_a_signed_but_malformed_body_is_a_bad_request(client, run_tasks_now):
    response = post(client, b"{not json")
    assert response.status_code == 400
    assert run_tasks_now == []


# --- feed changes ---------------------------------------------------------------------------
def test_a_new_comment_by_webhook_opens_a_comment_ticket(client, run_tasks_now):
    channel = page_channel()
    post(client, "webhook_comment_add.json")
    ticket = Ticket.objects.get(channel=channel)
    assert ticket.kind == "comment"
    assert ticket.thread_key == f"comment:{C3}"
    assert ticket.identity.display_name == "Carol Smit"
    assert ticket.messages.get().text == "Do you ship to Belgium?"


@responses.activate
def test_the_same_comment_by_webhook_and_by_poll_is_one_message(client, run_tasks_now):
    channel = page_channel()
    post(client, "webhook_comment_add.json")
    responses.get(graph(f"{PAGE_ID}/feed"), json=load("feed.json"))
    responses.get(graph(f"{POST_ID}/comments"), json=load("comments_page_post_later.json"))
    responses.get(
        graph(f"{PAGE_ID}_900000000000002/comments"), json=load("comments_visitor_post.json")
    )
    page = FacebookPageConnector(channel.context()).fetch(SINCE)
    ingest_batch(channel_id=channel.pk, items=page.items, cursor=page.cursor)
    assert Message.objects.filter(external_id=C3).count() == 1
    assert Ticket.objects.filter(thread_key=f"comment:{C3}").count() == 1


def test_a_batched_delivery_stores_each_event_once(client, run_tasks_now):
    channel = page_channel()
    post(client, "webhook_batched.json")  # the same comment in two entries, plus a reply
    assert Message.objects.filter(channel=channel, external_id=C3).count() == 1
    assert Message.objects.filter(channel=channel).count() == 2


def test_a_redelivered_webhook_stores_nothing_twice(client, run_tasks_now):
    page_channel()
    post(client, "webhook_comment_add.json")
    post(client, "webhook_comment_add.json")
    assert Message.objects.count() == 1


def test_a_reply_by_webhook_joins_its_top_level_comments_ticket(client, run_tasks_now):
    channel = page_channel()
    top_level = load("comments_page_post.json")["data"][3]  # Anna's comment, found by a poll
    ingest_batch(
        channel_id=channel.pk,
        items=[comment_item(top_level, page_id=PAGE_ID, post_id=POST_ID)],
    )
    post(client, "webhook_comment_reply_add.json")
    ticket = Ticket.objects.get(thread_key=f"comment:{C1}")
    assert list(ticket.messages.order_by("sent_at").values_list("text", flat=True)) == [
        "The blue coat is sold out already?",
        "Great, thanks!",
    ]


def test_an_edited_comment_replaces_the_stored_text(client, run_tasks_now):
    page_channel()
    post(client, "webhook_comment_add.json")
    post(client, "webhook_comment_edited.json")
    message = Message.objects.get(external_id=C3)
    assert message.text == "Do you ship to Belgium and Germany?"
    assert message.edited_at is not None


def test_a_comment_hidden_on_facebook_is_marked_hidden(client, run_tasks_now):
    page_channel()
    post(client, "webhook_comment_add.json")
    post(client, "webhook_comment_hide.json")
    message = Message.objects.get(external_id=C3)
    assert message.hidden is True
    assert Activity.objects.filter(verb="message_hidden_on_platform").count() == 1


def test_a_comment_removed_on_facebook_is_kept_hidden_and_logged_once(client, run_tasks_now):
    page_channel()
    post(client, "webhook_comment_add.json")
    post(client, "webhook_comment_remove.json")
    post(client, "webhook_comment_remove.json")
    message = Message.objects.get(external_id=C3)
    assert message.hidden is True
    assert Activity.objects.filter(verb="message_removed_on_platform").count() == 1


def test_an_event_for_a_page_nobody_connected_is_ignored(client, run_tasks_now):
    body = raw("webhook_comment_add.json").replace(PAGE_ID.encode(), b"999999999")
    response = post(client, body)
    assert response.status_code == 200
    assert Message.objects.count() == 0


# --- messaging ------------------------------------------------------------------------------
@pytest.fixture
def graph_api():
    """Meta's Graph API for the messaging tests: the User Profile lookup of a new DM sender
    answers from the fixture; any other call fails as unreachable."""
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.get(graph(PSID), json=load("user_profile.json"))
        yield mock


def test_a_messenger_message_opens_a_dm_ticket_on_the_messenger_channel(
    client, run_tasks_now, graph_api
):
    page = page_channel()
    messenger = messenger_channel()
    post(client, "webhook_messaging_message.json", url="/webhooks/messenger/")
    ticket = Ticket.objects.get()
    assert ticket.channel == messenger and ticket.channel != page
    assert ticket.kind == "dm" and ticket.thread_key == f"dm:{PSID}"
    assert ticket.messages.get().text == "Hi, where is my order 48213?"


def test_our_echoed_message_is_stored_as_ours_and_ends_the_wait(client, run_tasks_now, graph_api):
    messenger_channel()
    post(client, "webhook_messaging_message.json")
    post(client, "webhook_messaging_echo.json")
    ticket = Ticket.objects.get()
    echo = ticket.messages.get(direction=Direction.OUTBOUND)
    assert echo.text == "Let me check that for you."
    assert ticket.waiting_since is None


def test_read_receipts_are_not_messages(client, run_tasks_now, graph_api):
    messenger_channel()
    post(client, "webhook_messaging_read.json")
    assert Message.objects.count() == 0


def test_a_dm_by_webhook_and_by_poll_is_one_message(client, run_tasks_now, graph_api):
    from channels.facebook.connector import MessengerConnector

    channel = messenger_channel()
    post(client, "webhook_messaging_message.json")
    graph_api.get(graph(f"{PAGE_ID}/conversations"), json=load("conversations.json"))
    page = MessengerConnector(channel.context()).fetch(SINCE)
    ingest_batch(channel_id=channel.pk, items=page.items, cursor=page.cursor)
    ticket = Ticket.objects.get()
    assert ticket.messages.count() == 2  # the customer's message once, and our answer
    assert ticket.identity.display_name == "Dirk Bakker"
    assert json.loads(json.dumps(page.cursor))["since"].startswith("2026-11-20T12:05")


def test_standby_messages_of_a_handed_over_conversation_are_stored_too(
    client, run_tasks_now, graph_api
):
    messenger_channel()
    body = json.loads(raw("webhook_messaging_message.json"))
    entry = body["entry"][0]
    entry["standby"] = entry.pop("messaging")
    post(client, json.dumps(body).encode())
    assert Ticket.objects.get().thread_key == f"dm:{PSID}"


def test_a_dm_by_webhook_shows_the_senders_messenger_name(client, run_tasks_now, graph_api):
    messenger_channel()
    post(client, "webhook_messaging_message.json")
    identity = Ticket.objects.get().identity
    assert identity.display_name == "Dirk Bakker"
    assert identity.avatar_url.startswith("https://platform-lookaside.fbsbx.com/")


def test_a_known_sender_is_not_looked_up_again(client, run_tasks_now, graph_api):
    messenger_channel()
    post(client, "webhook_messaging_message.json")
    body = raw("webhook_messaging_message.json").replace(b"m_AG5", b"m_BG5")
    post(client, body)
    lookups = [c for c in graph_api.calls if c.request.url.startswith(graph(PSID))]
    assert len(lookups) == 1
    assert Ticket.objects.get().messages.count() == 2


def test_a_dm_is_stored_even_when_meta_will_not_share_the_name(client, run_tasks_now):
    messenger_channel()
    with responses.RequestsMock() as mock:
        mock.get(graph(PSID), json=load("error_190.json"), status=400)
        post(client, "webhook_messaging_message.json")
    assert Ticket.objects.get().messages.count() == 1


def test_a_customer_editing_a_dm_updates_the_stored_text(client, run_tasks_now, graph_api):
    messenger_channel()
    post(client, "webhook_messaging_message.json")
    post(client, "webhook_messaging_edit.json")
    message = Message.objects.get()
    assert message.text == "Hi, where is my order 48214?"
    assert message.edited_at is not None

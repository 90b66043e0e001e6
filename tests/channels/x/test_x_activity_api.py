"""The X Activity API (XAA), which replaces Account Activity: its deliveries become items.

Fixtures copy the delivery shapes of docs.x.com/x-api/activity/event-payloads (the envelope
``{"data": {"event_uuid", "filter": {"user_id"}, "event_type", "tag", "payload", "includes"}}``;
``post.mention.create`` carries a v2 Post with ``includes.users``; ``dm.received`` and
``dm.sent`` carry Account Activity's ``direct_message_events`` with a ``users`` map of v2 users
wrapped as ``{"data": {...}}``), with our test accounts' ids.
"""

from __future__ import annotations

import base64
import copy
import hmac

import pytest

from channels.tasks import poll_channel
from channels.x.webhook import delivery_account, webhook_items
from inbox.ingest.services import ingest_batch
from inbox.models import Direction, Message, Ticket

from .conftest import CREDENTIALS, MENTIONS, OWN_ID, load, make_x_channel, raw

pytestmark = pytest.mark.django_db

MENTION = "2123733088465850514"
DM_CONVERSATION = f"dm:2244994945-{OWN_ID}"


def _items(name: str, payload: dict | None = None):
    return webhook_items(payload or load(name), own_id=OWN_ID)


def test_the_account_of_a_delivery_is_read_from_either_shape():
    assert delivery_account(load("xaa_post_mention_create.json")) == OWN_ID
    assert delivery_account(load("webhook_tweet_create.json")) == OWN_ID
    assert delivery_account({"data": {"event_type": "post.create", "payload": {}}}) == ""
    assert delivery_account(["not", "an", "object"]) == ""


def test_a_mention_delivered_by_the_activity_api_opens_a_ticket_with_its_author():
    channel = make_x_channel()

    ingest_batch(channel_id=channel.pk, items=_items("xaa_post_mention_create.json"))

    message = Message.objects.get(channel=channel)
    assert message.external_id == MENTION
    assert message.text == "@acme_care my parcel 4471 is late"
    assert message.author_identity.handle == "jan_de_vries"
    assert message.author_identity.followers == 311
    assert message.ticket.thread_key == f"conv:{MENTION}"
    assert message.ticket.kind == "mention"


def test_a_mention_by_activity_api_and_by_poll_is_one_message(api):
    channel = make_x_channel()
    ingest_batch(channel_id=channel.pk, items=_items("xaa_post_mention_create.json"))
    api.get(MENTIONS, json=load("mention_original.json"))

    poll_channel(channel.pk)

    assert Message.objects.filter(channel=channel).count() == 1
    assert Ticket.objects.filter(channel=channel).count() == 1


def test_an_edit_delivered_by_the_activity_api_updates_the_polled_message(api):
    channel = make_x_channel()
    api.get(MENTIONS, json=load("mention_original.json"))
    poll_channel(channel.pk)
    delivery = load("xaa_post_mention_create.json")
    delivery["data"]["payload"] = load("mention_edited.json")["data"][0]

    ingest_batch(channel_id=channel.pk, items=_items("", delivery))

    message = Message.objects.get(channel=channel)
    assert message.external_id == MENTION
    assert message.text.endswith("the tracking link is broken")
    assert len(message.versions) == 2


def test_a_received_dm_opens_a_dm_ticket_with_its_sender_and_keeps_its_text_as_sent():
    channel = make_x_channel()

    ingest_batch(channel_id=channel.pk, items=_items("xaa_dm_received.json"))

    ticket = Ticket.objects.get(channel=channel)
    assert ticket.thread_key == DM_CONVERSATION
    assert ticket.kind == "dm"
    message = ticket.messages.get()
    assert message.direction == Direction.INBOUND
    assert message.text == "Hello, my parcel never arrived <script>alert(1)</script>"
    assert message.author_identity.handle == "jan_de_vries"


def test_our_sent_dm_joins_the_conversation_as_ours_and_never_opens_a_ticket():
    channel = make_x_channel()
    ingest_batch(channel_id=channel.pk, items=_items("xaa_dm_sent.json"))
    assert not Ticket.objects.filter(channel=channel).exists()

    ingest_batch(channel_id=channel.pk, items=_items("xaa_dm_received.json"))
    ingest_batch(channel_id=channel.pk, items=_items("xaa_dm_sent.json"))

    ticket = Ticket.objects.get(channel=channel)
    assert list(ticket.messages.order_by("sent_at").values_list("direction", flat=True)) == [
        Direction.INBOUND,
        Direction.OUTBOUND,
    ]


def test_a_sent_dm_without_sender_id_is_still_ours():
    delivery = load("xaa_dm_sent.json")
    event = delivery["data"]["payload"]["direct_message_events"][0]
    del event["message_create"]["sender_id"]

    (item,) = _items("", delivery)

    assert item.is_ours
    assert item.author is None


def test_events_that_are_not_messages_and_malformed_events_give_no_items():
    like = {
        "data": {
            "event_uuid": "-3402274206530057851",
            "filter": {"user_id": OWN_ID, "direction": "inbound"},
            "event_type": "like.create",
            "payload": {"id": "87719f50ee17bdfa06a3089098a2b9ed", "liked_tweet_id": MENTION},
        }
    }
    broken = copy.deepcopy(load("xaa_dm_received.json"))
    broken["data"]["payload"]["direct_message_events"] = [None, {"type": "message_create"}]
    broken["data"]["payload"]["users"] = ["not", "a", "map"]
    post = load("xaa_post_mention_create.json")
    post["data"]["payload"] = "not a post"

    assert _items("", like) == []
    assert _items("", broken) == []
    assert _items("", post) == []


def _post_signed(client, body: bytes, secret: str = CREDENTIALS["consumer_secret"]):
    digest = hmac.new(secret.encode(), body, "sha256").digest()
    return client.post(
        "/webhooks/x/",
        data=body,
        content_type="application/json",
        HTTP_X_TWITTER_WEBHOOKS_SIGNATURE="sha256=" + base64.b64encode(digest).decode(),
    )


def test_a_signed_activity_api_delivery_to_the_endpoint_is_stored_once(client, eager_celery):
    channel = make_x_channel()
    body = raw("xaa_post_mention_create.json")

    first = _post_signed(client, body)
    replay = _post_signed(client, body)

    assert first.status_code == 200 and replay.status_code == 200
    message = Message.objects.get(channel=channel)
    assert message.external_id == MENTION
    assert message.author_identity.handle == "jan_de_vries"


def test_an_activity_api_delivery_with_a_wrong_signature_is_refused(client, eager_celery):
    make_x_channel()
    body = raw("xaa_dm_received.json")

    response = _post_signed(client, body, secret="someone-elses-secret")

    assert response.status_code == 403
    assert not Message.objects.exists()


def test_an_activity_api_delivery_for_an_account_we_do_not_serve_is_refused(client, eager_celery):
    make_x_channel(own_account_id="1999999999999999999")
    body = raw("xaa_dm_received.json")

    assert _post_signed(client, body).status_code == 403
    assert not Message.objects.exists()

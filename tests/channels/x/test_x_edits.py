"""Edited posts on X: every version is one message in one ticket, whatever arrives first.

X gives each edit of a post a new id and lists the chain, original first and latest last, in
``edit_history_tweet_ids`` (v2, a default field; developer.x.com/en/docs/x-api/edit-tweets) and
in ``edit_history: {initial_tweet_id, edit_tweet_ids}`` on Account Activity tweets
(docs.x.com/x-api/enterprise-gnip-2.0/fundamentals/edit-tweets). Fixtures:
``mention_original.json`` / ``mention_edited.json`` (v2 mentions pages) and
``webhook_tweet_edited.json`` (Account Activity ``tweet_create_events``). Their ids are real
snowflakes of their ``created_at`` (ms since X's epoch, shifted left 22 bits).
"""

from __future__ import annotations

import base64
import hmac

import pytest
from django.urls import reverse

from channels.tasks import poll_channel
from inbox.models import Message, Ticket
from tests.personas import person

from .conftest import CREDENTIALS, MENTIONS, load, make_x_channel, raw

pytestmark = pytest.mark.django_db

ORIGINAL = "2123733088465850514"
EDIT = "2123734095098810514"
OLD_TEXT = "@acme_care my parcel 4471 is late"
NEW_TEXT = "@acme_care my parcel 4471 is late & the tracking link is broken"


def _poll(api, channel, fixture: str) -> str:
    api.reset()
    api.get(MENTIONS, json=load(fixture))
    return poll_channel(channel.pk)


def _deliver(client, name: str = "webhook_tweet_edited.json"):
    return _deliver_body(client, raw(name))


def _deliver_body(client, body: bytes):
    digest = hmac.new(CREDENTIALS["consumer_secret"].encode(), body, "sha256").digest()
    return client.post(
        "/webhooks/x/",
        data=body,
        content_type="application/json",
        HTTP_X_TWITTER_WEBHOOKS_SIGNATURE="sha256=" + base64.b64encode(digest).decode(),
    )


def _the_message(channel) -> Message:
    assert Ticket.objects.filter(channel=channel).count() == 1
    messages = Message.objects.filter(channel=channel)
    assert messages.count() == 1
    return messages.get()


def test_an_edit_polled_after_the_original_updates_the_one_stored_message(api):
    channel = make_x_channel()
    _poll(api, channel, "mention_original.json")

    _poll(api, channel, "mention_edited.json")

    message = _the_message(channel)
    assert message.external_id == ORIGINAL
    assert message.text == NEW_TEXT
    assert message.edited_at is not None
    assert [v["text"] for v in message.versions] == [OLD_TEXT, NEW_TEXT]
    assert [v["version"] for v in message.versions] == [ORIGINAL, EDIT]
    assert message.ticket.thread_key == f"conv:{ORIGINAL}"


def test_the_original_arriving_after_its_edit_joins_the_history_without_replacing_the_text(api):
    channel = make_x_channel()
    _poll(api, channel, "mention_edited.json")

    _poll(api, channel, "mention_original.json")

    message = _the_message(channel)
    assert message.text == NEW_TEXT
    assert [v["text"] for v in message.versions] == [OLD_TEXT, NEW_TEXT]
    # Dated by the original post (its id carries its time), not by the edit four minutes later.
    assert message.sent_at.isoformat() == "2026-11-20T11:00:00+00:00"


def test_an_edit_by_webhook_then_the_poll_of_both_versions_make_one_message(
    client, api, eager_celery
):
    channel = make_x_channel()
    assert _deliver(client).status_code == 200
    page = load("mention_original.json")
    page["data"] += load("mention_edited.json")["data"]
    api.reset()
    api.get(MENTIONS, json=page)

    poll_channel(channel.pk)

    message = _the_message(channel)
    assert message.text == NEW_TEXT
    assert [v["version"] for v in message.versions] == [ORIGINAL, EDIT]


def test_replaying_both_versions_stores_nothing_more(api):
    channel = make_x_channel()
    _poll(api, channel, "mention_original.json")
    _poll(api, channel, "mention_edited.json")
    before = _the_message(channel)

    _poll(api, channel, "mention_edited.json")
    _poll(api, channel, "mention_original.json")

    after = _the_message(channel)
    assert after.versions == before.versions
    assert after.text == NEW_TEXT
    assert after.edited_at == before.edited_at


def test_both_versions_in_one_page_make_one_message_whatever_their_order(api):
    channel = make_x_channel()
    page = load("mention_edited.json")
    page["data"] += load("mention_original.json")["data"]
    api.get(MENTIONS, json=page)

    assert poll_channel(channel.pk) == "stored 1"

    message = _the_message(channel)
    assert message.text == NEW_TEXT
    assert [v["text"] for v in message.versions] == [OLD_TEXT, NEW_TEXT]


def test_the_agent_sees_the_message_marked_edited_with_its_earlier_text(api, client):
    channel = make_x_channel()
    _poll(api, channel, "mention_original.json")
    _poll(api, channel, "mention_edited.json")
    ticket = Ticket.objects.get(channel=channel)
    client.force_login(person("lena", "admin"))

    page = client.get(reverse("inbox:thread", args=[ticket.pk])).content.decode()

    assert 'class="edited"' in page
    assert "Earlier versions" in page
    assert "my parcel 4471 is late &amp; the tracking link is broken" in page
    assert page.count("my parcel 4471 is late") >= 2


def test_an_edited_reply_by_webhook_stays_in_the_ticket_of_its_conversation(
    client, api, eager_celery
):
    channel = make_x_channel()
    root = load("mention_original.json")
    reply = load("mention_original.json")
    reply["data"][0].update(
        id="2123733591828463616",
        edit_history_tweet_ids=["2123733591828463616"],
        text="@acme_care also: the tracking link is broken",
        referenced_tweets=[{"type": "replied_to", "id": "2123733340160000000"}],
    )
    root["data"] += reply["data"]
    api.get(MENTIONS, json=root)
    poll_channel(channel.pk)
    # The edit comes by Account Activity, which has no conversation id: it names the post it
    # answers, a post we never stored.
    body = raw("webhook_tweet_edited.json").replace(ORIGINAL.encode(), b"2123733591828463616")
    body = body.replace(
        b'"in_reply_to_status_id_str": null', b'"in_reply_to_status_id_str": "2123733340160000000"'
    )

    assert _deliver_body(client, body).status_code == 200

    assert Ticket.objects.filter(channel=channel).count() == 1
    edited = Message.objects.get(channel=channel, external_id="2123733591828463616")
    assert edited.text == NEW_TEXT
    assert edited.ticket.thread_key == f"conv:{ORIGINAL}"


def test_earlier_versions_are_shown_escaped(api, client):
    channel = make_x_channel()
    original = load("mention_original.json")
    original["data"][0]["text"] = "@acme_care <img src=x onerror=alert(1)> &lt;b&gt;"
    api.get(MENTIONS, json=original)
    poll_channel(channel.pk)
    _poll(api, channel, "mention_edited.json")
    ticket = Ticket.objects.get(channel=channel)
    client.force_login(person("lena", "admin"))

    page = client.get(reverse("inbox:thread", args=[ticket.pk])).content.decode()

    assert "<img src=x" not in page
    assert "&lt;img src=x onerror=alert(1)&gt; &lt;b&gt;" in page

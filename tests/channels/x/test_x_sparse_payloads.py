"""Posts and DMs without the optional fields and expansions still thread, attribute and never
break a poll; our own DMs never become customer tickets.

Shapes from X's documentation: a post asked for without ``tweet.fields`` / ``expansions`` has
only ``id``, ``text`` and ``edit_history_tweet_ids`` (X API v2 reference of GET
/2/users/:id/mentions, "default fields"; developer.x.com/en/docs/x-api/edit-tweets); a DM event
without ``dm_event.fields`` has only ``id``, ``event_type`` and ``text``
(docs.x.com/x-api/direct-messages/lookup/integrate). ``includes`` is absent when no expansion
was asked for.
"""

from __future__ import annotations

import pytest
from django.utils import timezone

from channels.models import HealthState
from channels.tasks import poll_channel
from inbox.models import DeliveryState, Direction, Message, Ticket

from .conftest import DM_EVENTS, MENTIONS, OWN_ID, load, make_x_channel

pytestmark = pytest.mark.django_db

ROOT = "2123733088465850514"
REPLY = "2123734095098810514"
META = {"newest_id": REPLY, "oldest_id": ROOT, "result_count": 2}


def _bare(tweet_id: str, text: str, **fields) -> dict:
    return {"id": tweet_id, "edit_history_tweet_ids": [tweet_id], "text": text, **fields}


def test_posts_without_author_or_conversation_are_stored_and_threaded_by_what_they_reply_to(api):
    channel = make_x_channel()
    page = {
        "data": [
            _bare(
                REPLY,
                "@acme_care and the courier says it was delivered",
                referenced_tweets=[{"type": "replied_to", "id": ROOT}],
            ),
            _bare(ROOT, "@acme_care my parcel 4471 is late"),
        ],
        "meta": META,
    }
    api.get(MENTIONS, json=page)

    assert poll_channel(channel.pk) == "stored 2"

    ticket = Ticket.objects.get(channel=channel)
    assert ticket.thread_key == f"conv:{ROOT}"
    assert ticket.kind == "mention"
    assert list(ticket.messages.order_by("sent_at").values_list("external_id", flat=True)) == [
        ROOT,
        REPLY,
    ]
    # No author id: an anonymous customer, not an identity without an id, and not us.
    message = ticket.messages.get(external_id=ROOT)
    assert message.direction == Direction.INBOUND
    assert message.author_identity is None
    # The time comes from the id (X's snowflake), the link from the id alone.
    assert message.sent_at.isoformat() == "2026-11-20T11:00:00+00:00"
    assert message.url == f"https://x.com/i/web/status/{ROOT}"


def test_an_author_id_without_includes_users_keeps_the_author_by_id(api):
    channel = make_x_channel()
    api.get(
        MENTIONS,
        json={"data": [_bare(ROOT, "@acme_care hello", author_id="2244994945")], "meta": META},
    )

    poll_channel(channel.pk)

    message = Message.objects.get(channel=channel)
    assert message.author_identity.platform_user_id == "2244994945"
    assert message.author_identity.handle == ""


def test_malformed_posts_are_skipped_and_the_rest_of_the_page_is_stored(api):
    channel = make_x_channel()
    page = {
        "data": [
            "not a post",
            {"text": "no id at all"},
            {"id": "2123733088465850000", "text": ["not", "text"]},
            _bare(ROOT, "@acme_care my parcel 4471 is late", created_at="yesterday-ish"),
        ],
        "includes": {"users": "not a list"},
        "meta": META,
    }
    api.get(MENTIONS, json=page)

    assert poll_channel(channel.pk) == "stored 1"

    channel.refresh_from_db()
    assert channel.health_state == HealthState.OK
    assert Message.objects.get(channel=channel).external_id == ROOT


def _dm_channel(api, page: dict):
    channel = make_x_channel(settings={})
    api.get(MENTIONS, json=load("empty_page.json"))
    api.get(DM_EVENTS, json=page)
    return channel


def test_dms_with_only_the_default_fields_are_stored_without_crashing_the_batch(api):
    channel = _dm_channel(
        api,
        {
            "data": [
                {"id": "2123733591828463616", "event_type": "MessageCreate", "text": "Hello?"},
                {"id": "2123733591828463617", "event_type": "ParticipantsJoin"},
            ],
            "meta": {"result_count": 2},
        },
    )

    assert poll_channel(channel.pk) == "stored 1"

    message = Message.objects.get(channel=channel)
    assert message.text == "Hello?"
    assert message.direction == Direction.INBOUND
    assert message.author_identity is None
    assert message.ticket.thread_key == "dm:2123733591828463616"


def test_a_dm_without_sender_threads_by_its_conversation_id(api):
    channel = _dm_channel(
        api,
        {
            "data": [
                {
                    "id": "2123733591828463616",
                    "event_type": "MessageCreate",
                    "text": "Order number is 4471",
                    "dm_conversation_id": f"2244994945-{OWN_ID}",
                }
            ],
            "meta": {"result_count": 1},
        },
    )

    poll_channel(channel.pk)

    assert Ticket.objects.get(channel=channel).thread_key == f"dm:2244994945-{OWN_ID}"


def test_our_sent_dm_polled_without_sender_id_is_not_a_customer_ticket(api):
    channel = make_x_channel(settings={})
    page = load("dm_events.json")
    page["meta"].pop("next_token")
    api.get(MENTIONS, json=load("empty_page.json"))
    api.get(DM_EVENTS, json=page)
    poll_channel(channel.pk)
    ticket = Ticket.objects.get(channel=channel)
    # An agent's reply, sent from Webcare: X returned its event id.
    Message.objects.create(
        ticket=ticket,
        channel=channel,
        direction=Direction.OUTBOUND,
        external_id="2123734095098810368",
        text="Could you send us the order number?",
        delivery_state=DeliveryState.SENT,
        reply_mode="dm",
        sent_at=timezone.now(),
    )
    api.reset()
    api.get(MENTIONS, json=load("empty_page.json"))
    api.get(
        DM_EVENTS,
        json={
            "data": [
                {
                    "id": "2123734095098810368",
                    "event_type": "MessageCreate",
                    "text": "Could you send us the order number?",
                }
            ],
            "meta": {"result_count": 1},
        },
    )

    assert poll_channel(channel.pk) == "stored 0"

    assert Ticket.objects.filter(channel=channel).count() == 1
    assert not Message.objects.filter(
        channel=channel, direction=Direction.INBOUND, text="Could you send us the order number?"
    ).exists()


def test_our_dm_with_our_sender_id_outside_any_ticket_never_opens_one(api):
    channel = _dm_channel(
        api,
        {
            "data": [
                {
                    "id": "2123734095098810368",
                    "event_type": "MessageCreate",
                    "text": "Hi! A message from our campaign",
                    "sender_id": OWN_ID,
                }
            ],
            "meta": {"result_count": 1},
        },
    )

    assert poll_channel(channel.pk) == "stored 0"

    assert not Ticket.objects.filter(channel=channel).exists()

"""Replies to X go out exactly once: public replies in the thread, DMs in the conversation."""

from __future__ import annotations

import datetime as dt

import pytest
import requests
from django.contrib.auth import get_user_model
from django.utils import timezone
from responses import matchers

from channels.models import HealthState
from channels.tasks import poll_channel
from inbox.models import DeliveryState, Ticket
from inbox.replies.delivery import RetryLater, message_deliver
from inbox.replies.services import ReplyInvalid, reply_queue

from .conftest import API, DM_EVENTS, MENTIONS, OWN_ID, OWN_TWEETS, TWEETS, load, make_x_channel

pytestmark = pytest.mark.django_db

REPLY = "So sorry Jan, we're checking with the carrier now."
DM_SEND = f"{API}/dm_conversations/2244994945-{OWN_ID}/messages"


@pytest.fixture
def agent():
    return get_user_model().objects.create_user("anna", password="x")


def _mention_ticket(api, **channel_kwargs):
    channel = make_x_channel(**channel_kwargs)
    page = load("mentions_page1.json")
    page["meta"].pop("next_token")
    api.get(MENTIONS, json=page)
    poll_channel(channel.pk)
    api.reset()
    return channel, Ticket.objects.get(thread_key="conv:1860000000000000010")


def _dm_ticket(api):
    channel = make_x_channel(settings={})
    api.get(MENTIONS, json=load("empty_page.json"))
    api.get(DM_EVENTS, json=load("dm_events.json"))
    poll_channel(channel.pk)
    api.reset()
    return channel, Ticket.objects.get(thread_key=f"dm:2244994945-{OWN_ID}")


def _own_timeline_with_our_reply(after: dt.datetime) -> dict:
    page = load("users_tweets_own.json")
    page["data"][0]["referenced_tweets"][0]["id"] = "1860000000000000010"
    page["data"][0]["created_at"] = (after + dt.timedelta(seconds=1)).strftime(
        "%Y-%m-%dT%H:%M:%S.000Z"
    )
    return page


def test_a_public_reply_answers_the_customers_last_tweet(api, agent):
    channel, ticket = _mention_ticket(api)
    post = api.post(
        TWEETS,
        status=201,
        json=load("create_tweet.json"),
        match=[
            matchers.json_params_matcher(
                {"text": REPLY, "reply": {"in_reply_to_tweet_id": "1860000000000000010"}}
            )
        ],
    )
    message = reply_queue(ticket=ticket, author=agent, text=REPLY)

    assert message_deliver(message_id=message.pk) == "sent"

    message.refresh_from_db()
    assert post.call_count == 1
    assert message.delivery_state == DeliveryState.SENT
    assert message.external_id == "1860000000000000300"
    channel.refresh_from_db()
    assert channel.usage["posts"] == 1


def test_a_dm_reply_goes_to_the_dm_conversation(api, agent):
    channel, ticket = _dm_ticket(api)
    post = api.post(
        DM_SEND,
        status=201,
        json=load("create_dm.json"),
        match=[matchers.json_params_matcher({"text": "Got it, thanks!"})],
    )
    message = reply_queue(ticket=ticket, author=agent, text="Got it, thanks!", mode="dm")

    assert message_deliver(message_id=message.pk) == "sent"

    message.refresh_from_db()
    assert post.call_count == 1
    assert message.external_id == "1860000000000000400"


def test_a_reply_whose_first_attempt_timed_out_is_found_and_not_posted_again(api, agent):
    channel, ticket = _mention_ticket(api)
    post = api.post(TWEETS, body=requests.ReadTimeout("read timed out"))
    message = reply_queue(ticket=ticket, author=agent, text=REPLY)

    with pytest.raises(RetryLater):
        message_deliver(message_id=message.pk)
    message.refresh_from_db()
    assert message.delivery_state == DeliveryState.SENDING  # outcome unknown: look first

    # X did post it: our own timeline shows it.
    timeline = api.get(
        OWN_TWEETS,
        json=_own_timeline_with_our_reply(message.created_at),
        match=[matchers.query_param_matcher({"exclude": "retweets"}, strict_match=False)],
    )
    assert message_deliver(message_id=message.pk) == "sent (found earlier attempt)"

    message.refresh_from_db()
    assert post.call_count == 1 and timeline.call_count == 1
    assert message.delivery_state == DeliveryState.SENT
    assert message.external_id == "1860000000000000300"


def test_a_reply_whose_first_attempt_never_reached_x_is_posted_on_retry(api, agent):
    channel, ticket = _mention_ticket(api)
    api.post(TWEETS, body=requests.ReadTimeout("read timed out"))
    api.post(TWEETS, status=201, json=load("create_tweet.json"))
    message = reply_queue(ticket=ticket, author=agent, text=REPLY)
    with pytest.raises(RetryLater):
        message_deliver(message_id=message.pk)
    api.get(OWN_TWEETS, json=load("empty_page.json"))

    assert message_deliver(message_id=message.pk) == "sent"

    assert len([c for c in api.calls if c.request.method == "POST"]) == 2


def test_a_503_on_send_is_looked_up_before_posting_again(api, agent):
    channel, ticket = _mention_ticket(api)
    api.post(TWEETS, status=503, json=load("error_503.json"))
    message = reply_queue(ticket=ticket, author=agent, text=REPLY)

    with pytest.raises(RetryLater):
        message_deliver(message_id=message.pk)

    message.refresh_from_db()
    assert message.delivery_state == DeliveryState.SENDING


def test_a_429_on_send_requeues_the_reply_until_the_reset(api, agent):
    channel, ticket = _mention_ticket(api)
    reset = int((timezone.now() + dt.timedelta(minutes=5)).timestamp())
    api.post(
        TWEETS, status=429, json=load("error_429.json"), headers={"x-rate-limit-reset": str(reset)}
    )
    message = reply_queue(ticket=ticket, author=agent, text=REPLY)

    with pytest.raises(RetryLater) as retry:
        message_deliver(message_id=message.pk)

    assert 240 < retry.value.countdown <= 302
    message.refresh_from_db()
    assert message.delivery_state == DeliveryState.QUEUED


def test_x_refusing_a_duplicate_fails_the_reply_with_xs_reason_not_the_channel(api, agent):
    channel, ticket = _mention_ticket(api)
    api.post(TWEETS, status=403, json=load("error_403_duplicate.json"))
    message = reply_queue(ticket=ticket, author=agent, text=REPLY)

    assert message_deliver(message_id=message.pk) == "failed"

    message.refresh_from_db()
    channel.refresh_from_db()
    assert message.delivery_state == DeliveryState.FAILED
    assert message.failure_reason == (
        "X API 403: You are not allowed to create a Tweet with duplicate content."
    )
    assert channel.health_state == HealthState.OK


def test_expired_credentials_fail_the_reply_with_xs_message(api, agent):
    channel, ticket = _mention_ticket(api)
    api.post(TWEETS, status=401, json=load("error_401.json"))
    message = reply_queue(ticket=ticket, author=agent, text=REPLY)

    assert message_deliver(message_id=message.pk) == "failed"

    message.refresh_from_db()
    assert message.failure_reason == "X API 401: Unauthorized"


def test_a_reply_too_long_as_x_counts_it_is_refused_before_queueing(api, agent):
    channel, ticket = _mention_ticket(api)

    with pytest.raises(ReplyInvalid, match="282 characters"):
        reply_queue(ticket=ticket, author=agent, text="荷" * 141)

    assert ticket.messages.filter(direction="out").count() == 0
    assert reply_queue(ticket=ticket, author=agent, text="荷" * 140).pk


def test_a_spent_post_budget_is_shown_on_the_channel(api, agent):
    channel, ticket = _mention_ticket(api, settings={"fetch_dms": False, "monthly_post_budget": 1})
    api.post(TWEETS, status=201, json=load("create_tweet.json"))
    message_deliver(message_id=reply_queue(ticket=ticket, author=agent, text=REPLY).pk)
    api.get(MENTIONS, json=load("empty_page.json"))

    poll_channel(channel.pk)

    channel.refresh_from_db()
    assert channel.last_error == "monthly post budget spent: 1/1"
    assert channel.next_poll_at is None  # reading goes on as usual


@pytest.mark.usefixtures("recorded_clock")
def test_an_identical_earlier_dm_is_not_taken_for_a_timed_out_one(api, agent):
    channel, ticket = _dm_ticket(api)
    api.post(DM_SEND, body=requests.ReadTimeout("read timed out"))
    message = reply_queue(
        ticket=ticket, author=agent, text="Hi Jan, could you DM us your order number?", mode="dm"
    )
    with pytest.raises(RetryLater):
        message_deliver(message_id=message.pk)
    # The conversation holds the same words, sent by us days ago (in the fixture), not now.
    api.get(f"{API}/dm_conversations/2244994945-{OWN_ID}/dm_events", json=load("dm_events.json"))
    post = api.post(DM_SEND, status=201, json=load("create_dm.json"))

    assert message_deliver(message_id=message.pk) == "sent"

    assert post.call_count == 1
    message.refresh_from_db()
    assert message.external_id == "1860000000000000400"


def test_a_dm_conversation_is_not_answered_in_public(api, agent):
    from inbox.models import Message
    from inbox.replies.services import ReplyInvalid

    channel, ticket = _dm_ticket(api)
    with pytest.raises(ReplyInvalid, match="public reply is not possible"):
        reply_queue(ticket=ticket, author=agent, text="Hello!", mode="public")

    assert not Message.objects.filter(ticket=ticket, author_user=agent).exists()
    assert not api.calls

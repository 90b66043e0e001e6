"""Sending a reply exactly once: queued after commit, sent, failed with a reason, retried."""

import datetime as dt

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from channels.base import (
    Connector,
    OutboundReply,
    OutcomeUnknown,
    RateLimited,
    SendResult,
    TemporaryError,
)
from channels.models import Channel, HealthState
from channels.registry import register
from inbox.ingest.services import ingest_batch
from inbox.models import DeliveryState, Message, Ticket
from inbox.replies.delivery import message_deliver
from inbox.replies.services import reply_queue
from tests.factories import item, make_channel

pytestmark = pytest.mark.django_db

POSTS: list[OutboundReply] = []


@register
class CountingConnector(Connector):
    """A platform double that counts posts and misbehaves as its settings say."""

    kind = "test_counting"

    def send(self, reply):
        mode = self.channel.settings.get("send", "ok")
        if mode == "timeout":
            POSTS.append(reply)  # the post reached the platform, the answer did not reach us
            raise OutcomeUnknown("Read timed out")
        if mode == "down":
            raise TemporaryError("503 Service Unavailable")
        if mode == "rate":
            raise RateLimited("Too Many Requests", until=timezone.now() + dt.timedelta(minutes=9))
        POSTS.append(reply)
        return SendResult(external_id=f"post-{len(POSTS)}")

    def find_sent(self, reply):
        for n, posted in enumerate(POSTS, start=1):
            if posted.idempotency_key == reply.idempotency_key:
                return SendResult(external_id=f"post-{n}")
        return None


@pytest.fixture(autouse=True)
def _clear_posts():
    POSTS.clear()


@pytest.fixture
def agent():
    return get_user_model().objects.create_user("anna", first_name="Anna")


def _outbound(ticket, agent, state, key, **fields):
    """A reply of ``agent`` on ``ticket`` in delivery ``state``, stored directly."""
    return Message.objects.create(
        ticket=ticket,
        channel=ticket.channel,
        direction="out",
        author_user=agent,
        text="Hi",
        delivery_state=state,
        idempotency_key=key,
        **fields,
    )


def _ticket(**settings):
    channel = make_channel(kind="test_counting", settings=settings)
    ingest_batch(channel_id=channel.pk, items=[item("m1", text="Where is my order?")])
    return Ticket.objects.get(channel=channel)


def test_a_reply_is_queued_with_the_ticket_change_and_sent_after_commit(
    agent, django_capture_on_commit_callbacks
):
    ticket = _ticket()
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        message = reply_queue(ticket=ticket, author=agent, text="On its way!")
        message.refresh_from_db()
        assert message.delivery_state == DeliveryState.QUEUED
    assert POSTS == [] and len(callbacks) == 1
    callbacks[0]()
    message.refresh_from_db()
    ticket.refresh_from_db()
    assert message.delivery_state == DeliveryState.SENT and message.external_id == "post-1"
    assert ticket.first_response_at is not None and ticket.waiting_since is None


def test_delivering_a_sent_reply_again_posts_nothing(agent, django_capture_on_commit_callbacks):
    ticket = _ticket()
    with django_capture_on_commit_callbacks(execute=True):
        message = reply_queue(ticket=ticket, author=agent, text="Hi")
    assert message_deliver(message_id=message.pk).startswith("nothing to do")
    assert len(POSTS) == 1


def test_a_send_cut_off_after_posting_is_found_on_the_platform_not_posted_twice(agent):
    ticket = _ticket(send="timeout")
    message = _outbound(ticket, agent, DeliveryState.QUEUED, "k1")
    with pytest.raises(Exception, match="Read timed out"):
        message_deliver(message_id=message.pk)
    message.refresh_from_db()
    assert message.delivery_state == DeliveryState.SENDING
    assert message_deliver(message_id=message.pk) == "sent (found earlier attempt)"
    message.refresh_from_db()
    assert message.delivery_state == DeliveryState.SENT and message.external_id == "post-1"
    assert len(POSTS) == 1


def test_a_platform_outage_puts_the_reply_back_in_the_queue_with_the_reason(agent):
    ticket = _ticket(send="down")
    message = _outbound(ticket, agent, DeliveryState.QUEUED, "k2")
    with pytest.raises(Exception, match="503"):
        message_deliver(message_id=message.pk)
    message.refresh_from_db()
    assert message.delivery_state == DeliveryState.QUEUED
    assert message.failure_reason == "503 Service Unavailable"


def test_a_reply_echoed_by_a_poll_before_we_learnt_its_id_stays_one_message(agent):
    ticket = _ticket()
    message = _outbound(ticket, agent, DeliveryState.QUEUED, "k3")
    # The platform's echo of post-1 arrives through a poll first.
    ingest_batch(
        channel_id=ticket.channel_id,
        items=[item("post-1", is_ours=True, text="Hi")],
    )
    message_deliver(message_id=message.pk)
    outbound = Message.objects.filter(ticket=ticket, direction="out")
    assert outbound.count() == 1
    assert outbound.get().author_user == agent


def test_a_rate_limited_reply_waits_and_the_channel_shows_until_when(agent):
    ticket = _ticket(send="rate")
    message = _outbound(ticket, agent, DeliveryState.QUEUED, "k4")
    with pytest.raises(Exception, match="Too Many Requests") as raised:
        message_deliver(message_id=message.pk)
    channel = Channel.objects.get(pk=ticket.channel_id)
    assert raised.value.countdown > 8 * 60
    assert channel.health_state == HealthState.RATE_LIMITED
    assert channel.rate_limited_until > timezone.now() + dt.timedelta(minutes=8)
    assert Message.objects.get(pk=message.pk).delivery_state == DeliveryState.QUEUED


def test_a_reply_whose_task_was_lost_is_sent_by_the_sweep(agent):
    from channels.tasks import redeliver_stalled_replies

    ticket = _ticket()
    message = _outbound(
        ticket,
        agent,
        DeliveryState.QUEUED,
        "k5",
        delivery_changed_at=timezone.now() - dt.timedelta(minutes=2),
    )
    assert redeliver_stalled_replies() == 1
    message.refresh_from_db()
    assert message.delivery_state == DeliveryState.SENT and len(POSTS) == 1


def test_a_fresh_reply_is_left_to_its_own_task(agent):
    from channels.tasks import redeliver_stalled_replies

    ticket = _ticket()
    _outbound(ticket, agent, DeliveryState.QUEUED, "k6", delivery_changed_at=timezone.now())
    assert redeliver_stalled_replies() == 0


def test_queueing_a_reply_while_the_broker_is_down_keeps_it_queued(
    agent, monkeypatch, django_capture_on_commit_callbacks
):
    from kombu.exceptions import OperationalError

    from channels.tasks import send_message

    def broker_down(*args, **kwargs):
        raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr(send_message, "apply_async", broker_down)
    ticket = _ticket()
    with django_capture_on_commit_callbacks(execute=True):
        message = reply_queue(ticket=ticket, author=agent, text="Hi")
    message.refresh_from_db()
    assert message.delivery_state == DeliveryState.QUEUED and POSTS == []


def test_a_second_task_for_a_reply_still_being_sent_waits_instead_of_racing_it(agent):
    ticket = _ticket()
    message = Message.objects.create(
        ticket=ticket,
        channel=ticket.channel,
        direction="out",
        author_user=agent,
        text="Hi",
        delivery_state=DeliveryState.SENDING,
        idempotency_key="k7",
        delivery_changed_at=timezone.now(),  # an attempt started a moment ago, maybe alive
    )
    with pytest.raises(Exception, match="earlier attempt may still be running") as raised:
        message_deliver(message_id=message.pk)
    assert raised.value.countdown > 100
    assert POSTS == []
    assert Message.objects.get(pk=message.pk).delivery_state == DeliveryState.SENDING


def test_a_reply_left_sending_by_a_dead_attempt_is_looked_up_then_posted_once(agent):
    ticket = _ticket()
    message = _outbound(
        ticket,
        agent,
        DeliveryState.SENDING,
        "k8",
        delivery_changed_at=timezone.now() - dt.timedelta(minutes=10),
    )
    assert message_deliver(message_id=message.pk) == "sent"  # not found earlier: posted now
    assert len(POSTS) == 1

"""WhatsApp replies sent in batches (``inbox.replies.batch``): one task claims the channel's
queued replies, sends them concurrently at the number's rate and records them together — each
posted once, with the same states, activities and response times as one at a time."""

import json
from urllib.parse import parse_qs

import pytest
import responses
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext

from channels.models import Channel, HealthState
from inbox.ingest.entry import RetryLater, reply_deliver
from inbox.models import Activity, DeliveryState, Message, Ticket
from inbox.replies.batch import replies_claim
from inbox.replies.services import reply_queue
from tests.channels.whatsapp.support import (
    MESSAGES,
    PHONE_NUMBER_ID,
    deliver,
    error_body,
    graph,
    inbound,
    send_ok,
    whatsapp_channel,
)

pytestmark = pytest.mark.django_db

CUSTOMERS = ["31611111111", "31622222222", "31633333333", "31644444444"]


@pytest.fixture
def agent():
    return get_user_model().objects.create_user("wendy.agent", password="x")


@pytest.fixture
def dispatched(monkeypatch):
    """The send tasks a batch queues (reply id, countdown), instead of running them."""
    queued: list[tuple[int, int | None]] = []
    monkeypatch.setattr(
        "inbox.replies.batch.dispatch_send",
        lambda pk, countdown=None: queued.append((pk, countdown)),
    )
    return queued


@pytest.fixture
def tickets(client):
    channel = whatsapp_channel()
    for n, wa_id in enumerate(CUSTOMERS):
        deliver(client, inbound(MESSAGES["text"], wa_id=wa_id, wamid=f"wamid.IN-{n}"))
    return list(Ticket.objects.filter(channel=channel).order_by("pk"))


def queue(tickets, agent, per_ticket=1):
    return [
        reply_queue(ticket=t, author=agent, text=f"Antwoord {n} aan {t.pk}", mode="dm")
        for t in tickets
        for n in range(per_ticket)
    ]


def double(answers: dict[str, tuple[int, dict]] | None = None):
    """POST /{phone-number-id}/messages: accepted with a fresh wamid, or the answer given for
    a recipient. Returns the texts it accepted, in order."""
    accepted: list[str] = []

    def answer(request):
        form = {k: v[0] for k, v in parse_qs(request.body).items()}
        if answers and form["to"] in answers:
            status, body = answers[form["to"]]
            return status, {}, json.dumps(body)
        accepted.append(json.loads(form["text"])["body"])
        return 200, {}, json.dumps(send_ok(f"wamid.OUT-{len(accepted)}"))

    responses.add_callback(
        responses.POST,
        graph(f"{PHONE_NUMBER_ID}/messages"),
        callback=answer,
        content_type="application/json",
    )
    return accepted


@responses.activate
def test_one_task_sends_every_queued_reply_of_the_number_once(tickets, agent):
    replies = queue(tickets, agent, per_ticket=2)
    accepted = double()
    assert reply_deliver(message_id=replies[0].pk) == "batch of 8: sent 8"
    assert sorted(accepted) == sorted(m.text for m in replies)
    for message in Message.objects.filter(pk__in=[m.pk for m in replies]):
        assert message.delivery_state == DeliveryState.SENT
        assert message.external_id.startswith("wamid.OUT-")
        assert message.failure_reason == ""
    # The other replies' own tasks find nothing left to post.
    for message in replies[1:]:
        assert reply_deliver(message_id=message.pk) == "nothing to do (sent)"
    assert len(accepted) == len(replies)


@responses.activate
def test_a_batch_records_what_a_single_send_records(tickets, agent):
    replies = queue(tickets, agent)
    double()
    reply_deliver(message_id=replies[0].pk)
    sent = Activity.objects.filter(verb="reply_sent")
    assert sorted(a.after["message"] for a in sent) == sorted(m.pk for m in replies)
    assert {a.actor_id for a in sent} == {agent.pk}
    for ticket in Ticket.objects.filter(pk__in=[t.pk for t in tickets]):
        assert ticket.first_response_at is not None
        assert ticket.last_response_at == ticket.first_response_at
    channel = Channel.objects.get(pk=tickets[0].channel_id)
    assert channel.usage["posts"] == len(replies)  # counted once for the batch
    assert channel.health_state == HealthState.OK


@responses.activate
def test_a_batch_costs_the_same_statements_for_four_replies_as_for_twelve(tickets, agent):
    double()
    reply_deliver(message_id=queue(tickets, agent)[0].pk)  # the tickets' first responses
    counts = []
    for per_ticket in (1, 3):
        replies = queue(tickets, agent, per_ticket=per_ticket)
        with CaptureQueriesContext(connection) as queries:
            assert (
                reply_deliver(message_id=replies[0].pk)
                == f"batch of {len(replies)}: sent {len(replies)}"
            )
        counts.append(len(queries))
    assert counts[0] == counts[1]


@responses.activate
def test_each_outcome_in_a_batch_is_its_own_and_the_rest_still_go_out(tickets, agent, dispatched):
    replies = queue(tickets, agent)
    accepted = double(
        {
            CUSTOMERS[1]: (400, error_body(131056)),  # pair rate limit: only this one waits
            CUSTOMERS[2]: (400, error_body(131026)),  # undeliverable: this one fails
        }
    )
    assert reply_deliver(message_id=replies[0].pk) == "batch of 4: failed 1, retry 1, sent 2"
    # The waiting reply gets a send task of its own, after Meta's pair-limit pause.
    ((again, countdown),) = dispatched
    assert again == replies[1].pk and countdown and 5 <= countdown <= 7
    states = {m.ticket_id: m for m in Message.objects.filter(pk__in=[r.pk for r in replies])}
    assert states[tickets[0].pk].delivery_state == DeliveryState.SENT
    assert states[tickets[3].pk].delivery_state == DeliveryState.SENT
    waiting = states[tickets[1].pk]
    assert waiting.delivery_state == DeliveryState.QUEUED and "131056" in waiting.failure_reason
    failed = states[tickets[2].pk]
    assert failed.delivery_state == DeliveryState.FAILED and "131026" in failed.failure_reason
    assert len(accepted) == 2
    # The refusal is the channel's news; the one recipient's limit is not.
    channel = Channel.objects.get(pk=tickets[0].channel_id)
    assert "131026" in channel.last_error
    assert channel.health_state != HealthState.RATE_LIMITED


@responses.activate
def test_a_retried_task_sends_what_went_back_to_the_queue_and_nothing_else_again(
    tickets, agent, dispatched
):
    replies = queue(tickets, agent)
    responses.add(
        responses.POST,
        graph(f"{PHONE_NUMBER_ID}/messages"),
        json=error_body(130429),
        status=400,
    )
    with pytest.raises(RetryLater):  # the asking reply's own task retries
        reply_deliver(message_id=replies[0].pk)
    assert Message.objects.filter(delivery_state=DeliveryState.QUEUED).count() == len(replies)
    assert sorted(pk for pk, _countdown in dispatched) == sorted(m.pk for m in replies[1:])
    channel = Channel.objects.get(pk=tickets[0].channel_id)
    assert channel.health_state == HealthState.RATE_LIMITED
    from django.core.cache import cache

    cache.clear()  # the number's pause is over
    responses.reset()
    accepted = double()
    assert reply_deliver(message_id=replies[0].pk) == "batch of 4: sent 4"
    assert sorted(accepted) == sorted(m.text for m in replies)


def test_replies_claimed_by_one_worker_are_not_claimed_by_another(tickets, agent):
    replies = queue(tickets, agent, per_ticket=2)
    first = replies_claim(tickets[0].channel_id, 5)
    second = replies_claim(tickets[0].channel_id, 5)
    assert len(first) == 5 and len(second) == 3
    assert not set(first) & set(second)
    assert replies_claim(tickets[0].channel_id, 5) == []
    states = Message.objects.filter(pk__in=[m.pk for m in replies]).values_list(
        "delivery_state", flat=True
    )
    assert set(states) == {DeliveryState.SENDING}


def test_the_asking_reply_is_claimed_first_whatever_its_age(tickets, agent):
    replies = queue(tickets, agent, per_ticket=2)
    newest = replies[-1]
    assert newest.pk in replies_claim(tickets[0].channel_id, 2, first_id=newest.pk)


@responses.activate
def test_a_reply_a_batch_is_sending_is_left_to_that_batch(tickets, agent):
    (reply,) = queue(tickets[:1], agent)
    replies_claim(tickets[0].channel_id, 5)  # another worker's batch holds it
    accepted = double()
    assert reply_deliver(message_id=reply.pk) == "nothing to do (in a batch)"
    assert accepted == []
    reply.refresh_from_db()
    assert reply.delivery_state == DeliveryState.SENDING

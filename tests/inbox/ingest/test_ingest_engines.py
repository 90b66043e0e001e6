"""The engines at ingest run on the rows ingest writes: each ticket is written once, in its final
state, also when ingest's guess about what is new turns out wrong."""

import datetime as dt

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext

from inbox.engines.intent import classify
from inbox.engines.routing import rule_create
from inbox.ingest.services import ingest_batch, tickets_ingested
from inbox.models import (
    Activity,
    AutoAck,
    BusinessHours,
    Holiday,
    Message,
    SlaTarget,
    Tag,
    Team,
    Ticket,
    TicketStatus,
)
from tests.factories import author, item, make_channel

pytestmark = pytest.mark.django_db

SATURDAY = dt.datetime(2026, 11, 21, 12, 0, tzinfo=dt.UTC)


@pytest.fixture
def lead():
    return get_user_model().objects.create_user("lead")


@pytest.fixture
def parcels(lead):
    tag = Tag.objects.create(name="parcel")
    rule_create(actor=lead, name="Parcels", keywords="parcel", priority_points=7, tags=[tag])
    return tag


def test_a_new_ticket_is_stored_with_intent_routing_priority_and_due_time(parcels):
    channel = make_channel()
    ingest_batch(channel_id=channel.pk, items=[item("m1", text="Waar blijft mijn parcel?!")])
    ticket = Ticket.objects.get()
    assert ticket.intent == "complaint"
    assert [e["name"] for e in ticket.routing_trace] == ["Parcels"]
    assert list(ticket.tags.all()) == [parcels]
    assert ["rule “Parcels”", 7] in ticket.priority_parts
    assert ticket.priority == sum(points for _, points in ticket.priority_parts)
    assert ticket.due_at is not None and ticket.first_response_due_at == ticket.due_at
    assert Activity.objects.filter(ticket=ticket, verb="routed").count() == 1


def test_a_ticket_opened_for_a_message_stored_meanwhile_gets_no_engine_results(
    parcels, monkeypatch
):
    channel = make_channel()
    ingest_batch(channel_id=channel.pk, items=[item("m1", thread="t1", text="parcel")])
    # As if m1 was stored by another path after the lookup: t2 is opened, but gets nothing.
    monkeypatch.setattr("inbox.ingest.services._stored_ids", lambda channel_id, external_ids: set())
    ingest_batch(channel_id=channel.pk, items=[item("m1", thread="t2", text="parcel")])
    opened = Ticket.objects.get(thread_key="t2")
    assert opened.routing_trace == [] and not opened.tags.exists()
    assert opened.intent == "" and opened.priority == 0 and opened.priority_parts == []
    assert opened.due_at is None and opened.waiting_since is None
    assert not Activity.objects.filter(ticket=opened, verb="routed").exists()


def test_a_message_stored_meanwhile_in_an_open_thread_is_not_counted_twice(monkeypatch):
    channel = make_channel()
    t0 = dt.datetime(2026, 11, 18, 10, 0, tzinfo=dt.UTC)
    ingest_batch(channel_id=channel.pk, items=[item("m1", at=t0, text="Hallo")])
    Ticket.objects.update(status=TicketStatus.CLOSED, waiting_since=None)
    monkeypatch.setattr("inbox.ingest.services._stored_ids", lambda channel_id, external_ids: set())
    batch = [item("m1", at=t0, text="Hallo"), item("m2", at=t0 + dt.timedelta(hours=1))]
    result = ingest_batch(channel_id=channel.pk, items=batch)
    ticket = Ticket.objects.get()
    assert result.created == 1 and result.tickets_reopened == 1
    assert ticket.status == TicketStatus.OPEN
    assert ticket.waiting_since == t0 + dt.timedelta(hours=1)
    assert ticket.last_message_preview == "Where is my parcel?"
    assert ticket.intent == classify("Where is my parcel?").intent and ticket.due_at is not None
    assert Activity.objects.filter(ticket=ticket, verb="reopened").count() == 1


def test_an_edited_review_sets_the_tickets_new_stars_and_priority():
    channel = make_channel()
    ingest_batch(channel_id=channel.pk, items=[item("r1", kind="review", rating=5, text="Top")])
    assert all("star review" not in reason for reason, _ in Ticket.objects.get().priority_parts)
    edit = item("r1", kind="review", rating=1, text="Kapot", edited=True)
    result = ingest_batch(channel_id=channel.pk, items=[edit])
    ticket = Ticket.objects.get()
    assert result.edited == 1 and ticket.rating == 1
    assert ["1-star review", 10] in ticket.priority_parts


def test_a_follow_up_by_another_author_uses_the_tickets_author_reach():
    channel = make_channel()
    famous = author("star", followers=250_000, verified=True)
    ingest_batch(channel_id=channel.pk, items=[item("m1", uid="star", author=famous)])
    ingest_batch(channel_id=channel.pk, items=[item("m2", uid="friend")])
    parts = dict(map(tuple, Ticket.objects.get().priority_parts))
    assert parts["250k followers"] == 15 and parts["verified account"] == 5


def test_signal_receivers_after_ingest_see_the_engines_results(parcels):
    seen = {}

    def receiver(*, tickets, messages, **kwargs):
        seen.update(tickets=tickets, messages=messages)

    tickets_ingested.connect(receiver)
    try:
        ingest_batch(channel_id=make_channel().pk, items=[item("m1", text="parcel?")])
    finally:
        tickets_ingested.disconnect(receiver)
    [ticket] = seen["tickets"]
    assert ticket.routing_trace[0]["name"] == "Parcels" and ticket.due_at is not None
    [message] = seen["messages"]
    assert message.pk == Message.objects.get().pk and message.ticket_id == ticket.pk


def test_a_changed_acknowledgement_text_applies_to_the_next_batch(monkeypatch):
    monkeypatch.setattr("inbox.engines.signals.timezone.now", lambda: SATURDAY)
    BusinessHours.objects.create(team=None, time_zone="Europe/Amsterdam")
    ack = AutoAck.objects.create(text="Back {opening}.")
    channel = make_channel()
    ingest_batch(channel_id=channel.pk, items=[item("m1", thread="t1")])
    ack.text = "Terug {opening}."
    ack.save()
    ingest_batch(channel_id=channel.pk, items=[item("m2", thread="t2")])
    texts = list(
        Message.objects.filter(direction="out").order_by("pk").values_list("text", flat=True)
    )
    assert texts == ["Back Monday 8:00.", "Terug Monday 8:00."]


@pytest.mark.postgres
def test_a_batch_of_500_costs_the_same_queries_as_a_batch_of_50(lead, parcels, monkeypatch):
    # PostgreSQL only: SQLite splits statements above about 1,000 parameters.
    monkeypatch.setattr("inbox.engines.signals.timezone.now", lambda: SATURDAY)
    team = Team.objects.create(name="Care")
    hours = BusinessHours.objects.create(team=None, time_zone="Europe/Amsterdam")
    Holiday.objects.create(hours=hours, date=dt.date(2026, 12, 25))
    SlaTarget.objects.create(first_response_minutes=30)
    AutoAck.objects.create(text="Back {opening}.")
    rule_create(actor=lead, name="Care", keywords="parcel", set_team=team)

    def run(n, authors):
        # About 3 messages a thread and 2 a customer, as polled batches are.
        batch = [
            item(f"{authors}-m{k}", thread=f"{authors}-t{k // 3}", uid=f"{authors}-u{k // 2}")
            for k in range(n)
        ]
        with CaptureQueriesContext(connection) as ctx:
            ingest_batch(channel_id=channel.pk, items=batch)
        return len(ctx.captured_queries)

    channel = make_channel()
    run(50, "warm-up")  # loads the configuration the worker keeps
    assert run(50, "small") == run(500, "large")
    assert Ticket.objects.filter(team=team).count() == 17 + 167 + 17
    assert Message.objects.filter(direction="out").count() == 17 + 167 + 17

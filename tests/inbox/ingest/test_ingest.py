"""The ingest service: one transaction per batch, deduped by the database, threaded."""

import datetime as dt

import pytest
from django.utils import timezone

from inbox.ingest.services import ingest_batch, tickets_ingested
from inbox.models import Activity, Customer, Direction, Message, Ticket, TicketStatus
from tests.factories import author, item, make_channel

pytestmark = pytest.mark.django_db


def test_a_new_mention_opens_a_ticket_for_a_new_customer():
    channel = make_channel()
    result = ingest_batch(
        channel_id=channel.pk, items=[item("m1", text="Waar blijft mijn pakket?")]
    )
    ticket = Ticket.objects.get()
    assert result.created == 1 and result.tickets_created == 1
    assert ticket.status == TicketStatus.NEW
    assert ticket.identity.handle == "handle_u1"
    assert ticket.customer == ticket.identity.customer
    assert ticket.last_message_preview == "Waar blijft mijn pakket?"
    assert ticket.waiting_since is not None
    assert Activity.objects.filter(ticket=ticket, verb="created").exists()


def test_replaying_a_batch_stores_nothing_twice():
    channel = make_channel()
    batch = [item("m1"), item("m2", thread="t2", uid="u2")]
    ingest_batch(channel_id=channel.pk, items=batch)
    again = ingest_batch(channel_id=channel.pk, items=batch)
    assert again.created == 0 and again.duplicates == 2
    assert Message.objects.count() == 2
    assert Ticket.objects.count() == 2


def test_the_same_platform_id_twice_in_one_batch_is_stored_once():
    channel = make_channel()
    result = ingest_batch(channel_id=channel.pk, items=[item("m1"), item("m1")])
    assert result.created == 1
    assert Message.objects.count() == 1


def test_each_message_keeps_its_language_as_the_primary_subtag():
    channel = make_channel()
    ingest_batch(
        channel_id=channel.pk,
        items=[
            item("m1", language="nl-BE"),
            item("m2", language="EN"),
            item("m3", language=""),
        ],
    )
    languages = dict(Message.objects.values_list("external_id", "language"))
    assert languages == {"m1": "nl", "m2": "en", "m3": ""}


def test_follow_ups_in_a_thread_land_in_the_same_ticket():
    channel = make_channel()
    t0 = timezone.now() - dt.timedelta(minutes=10)
    ingest_batch(channel_id=channel.pk, items=[item("m1", at=t0)])
    ingest_batch(channel_id=channel.pk, items=[item("m2", at=t0 + dt.timedelta(minutes=5))])
    ticket = Ticket.objects.get()
    assert ticket.messages.count() == 2
    assert ticket.waiting_since == t0  # still waiting since the first unanswered message
    assert ticket.last_inbound_at == t0 + dt.timedelta(minutes=5)


def test_a_new_message_on_a_closed_ticket_reopens_it():
    channel = make_channel()
    ingest_batch(channel_id=channel.pk, items=[item("m1")])
    Ticket.objects.update(status=TicketStatus.CLOSED, closed_at=timezone.now())
    result = ingest_batch(channel_id=channel.pk, items=[item("m2")])
    ticket = Ticket.objects.get()
    assert result.tickets_reopened == 1
    assert ticket.status == TicketStatus.OPEN and ticket.closed_at is None
    assert Activity.objects.filter(ticket=ticket, verb="reopened").exists()


def test_our_own_echoed_message_is_stored_as_ours_and_stops_the_wait():
    channel = make_channel()
    t0 = timezone.now() - dt.timedelta(minutes=10)
    ingest_batch(channel_id=channel.pk, items=[item("m1", at=t0)])
    ingest_batch(
        channel_id=channel.pk,
        items=[item("ours1", is_ours=True, text="We're on it!", at=t0 + dt.timedelta(minutes=2))],
    )
    ticket = Ticket.objects.get()
    echo = Message.objects.get(external_id="ours1")
    assert echo.direction == Direction.OUTBOUND and echo.author_identity is None
    assert ticket.waiting_since is None
    assert ticket.first_response_at == t0 + dt.timedelta(minutes=2)
    assert Customer.objects.count() == 1  # the brand did not become a customer


def test_an_edited_review_updates_the_stored_message_not_a_new_ticket():
    channel = make_channel()
    ingest_batch(channel_id=channel.pk, items=[item("r1", kind="review", rating=2, text="Meh")])
    result = ingest_batch(
        channel_id=channel.pk,
        items=[item("r1", kind="review", rating=4, text="Solved, thanks", edited=True)],
    )
    review = Message.objects.get()
    assert result.edited == 1
    assert review.text == "Solved, thanks" and review.rating == 4 and review.edited_at
    assert Ticket.objects.get().rating == 4


def test_the_cursor_is_stored_with_the_batch():
    channel = make_channel()
    ingest_batch(channel_id=channel.pk, items=[item("m1")], cursor={"since_id": "m1"})
    channel.refresh_from_db()
    assert channel.cursor == {"since_id": "m1"}


def test_one_customer_across_two_channels_of_the_same_platform():
    first, second = make_channel(), make_channel()
    ingest_batch(channel_id=first.pk, items=[item("a1", uid="same")])
    ingest_batch(channel_id=second.pk, items=[item("b1", uid="same", kind="dm")])
    assert Customer.objects.count() == 1
    assert Ticket.objects.count() == 2


def test_ingest_uses_a_constant_number_of_queries(django_assert_max_num_queries):
    channel = make_channel()
    batch = [item(f"m{n}", thread=f"t{n % 40}", uid=f"u{n % 60}") for n in range(300)]
    # 16 for storing the batch, plus at most 13 for the engines at ingest
    # (inbox/engines/signals.py),
    # each a constant per batch: loading their configuration when it changed (rules and their
    # tags, business hours, holidays, team zones, SLA targets, auto-ack texts), the reach of
    # authors outside the batch, tag links, incident links, acknowledgements and the engines'
    # activities. The engines' fields are written with the tickets, in no statement of their own.
    with django_assert_max_num_queries(16 + 13):
        ingest_batch(channel_id=channel.pk, items=batch)
    assert Message.objects.count() == 300


def test_dedupe_does_not_depend_on_the_stored_ids_shortcut(monkeypatch):
    channel = make_channel()
    batch = [item("m1"), item("m2", thread="t2", uid="u2")]
    ingest_batch(channel_id=channel.pk, items=batch)
    # As if both were stored by another path after the lookup: the unique constraint decides.
    monkeypatch.setattr("inbox.ingest.services._stored_ids", lambda channel_id, external_ids: set())
    again = ingest_batch(channel_id=channel.pk, items=batch)
    assert again.created == 0 and again.duplicates == 2
    assert Message.objects.count() == 2
    assert Ticket.objects.count() == 2


def test_a_ticket_opened_for_a_message_stored_meanwhile_does_not_show_it(monkeypatch):
    channel = make_channel()
    ingest_batch(channel_id=channel.pk, items=[item("m1", thread="t1")])
    monkeypatch.setattr("inbox.ingest.services._stored_ids", lambda channel_id, external_ids: set())
    result = ingest_batch(channel_id=channel.pk, items=[item("m1", thread="t2", text="Later")])
    opened = Ticket.objects.get(thread_key="t2")
    assert result.created == 0 and result.ticket_ids == []
    assert opened.last_message_preview == "" and opened.waiting_since is None
    assert opened.messages.count() == 0


def test_a_thread_whose_ticket_appeared_after_the_lookup_gets_its_messages(monkeypatch):
    from inbox.ingest import services as ingest

    channel = make_channel()
    ingest_batch(channel_id=channel.pk, items=[item("m1", thread="t1")])
    stored = Ticket.objects.get(thread_key="t1")
    load, lookups = ingest._load_tickets, []

    def first_lookup_misses(channel_id, keys, reach=None):
        # As if the ticket was opened by another path after the lookup.
        lookups.append(keys)
        return {} if len(lookups) == 1 else load(channel_id, keys, reach)

    monkeypatch.setattr("inbox.ingest.services._load_tickets", first_lookup_misses)
    result = ingest_batch(channel_id=channel.pk, items=[item("m2", thread="t1", text="Nog iets")])
    assert result.created == 1 and result.tickets_created == 0
    assert Ticket.objects.filter(thread_key="t1").count() == 1
    assert sorted(stored.messages.values_list("external_id", flat=True)) == ["m1", "m2"]
    stored.refresh_from_db()
    assert stored.last_message_preview == "Nog iets"


def test_new_customers_with_the_same_name_each_get_their_own_record():
    channel = make_channel()
    same = {"handle": "jan", "display_name": "Jan"}
    batch = [item("m1", uid="u1", author=author("u1", **same))]
    batch.append(item("m2", thread="t2", uid="u2", author=author("u2", **same)))
    ingest_batch(channel_id=channel.pk, items=batch)
    assert Customer.objects.filter(display_name="Jan").count() == 2
    assert Ticket.objects.count() == 2


def test_signal_receivers_get_the_touched_tickets_and_the_stored_messages():
    channel = make_channel()
    seen = {}

    def receiver(*, channel, tickets, created_ticket_ids, messages, **kwargs):
        seen.update(tickets=tickets, created=created_ticket_ids, messages=messages)

    tickets_ingested.connect(receiver)
    try:
        ingest_batch(channel_id=channel.pk, items=[item("m1"), item("m2", thread="t2")])
    finally:
        tickets_ingested.disconnect(receiver)
    assert {t.thread_key for t in seen["tickets"]} == {"t1", "t2"}
    assert all(t.waiting_since is not None for t in seen["tickets"])
    assert seen["created"] == {t.pk for t in seen["tickets"]}
    stored = {m.pk: m.external_id for m in Message.objects.all()}
    assert {m.pk: m.external_id for m in seen["messages"]} == stored


def test_a_nul_character_in_a_hostile_payload_is_dropped_not_fatal_to_the_batch():
    channel = make_channel()
    hostile = item("m\x001", text="Where\x00 is it?", raw={"text": "Where\x00 is it?"})
    result = ingest_batch(channel_id=channel.pk, items=[hostile, item("m2", thread="t2")])
    assert result.created == 2
    stored = Message.objects.get(external_id="m1")
    assert stored.text == "Where is it?"
    assert "Where" in stored.raw["text"]

"""Explainable priority: the score is the sum of named parts, set at ingest and refreshed."""

import datetime as dt

import pytest
from django.utils import timezone

from inbox.engines.priority import priority_parts, priority_refresh
from inbox.ingest.services import ingest_batch
from inbox.models import Customer, Ticket, TicketStatus
from tests.factories import author, item, make_channel

NOW = dt.datetime(2026, 11, 20, 12, 0, tzinfo=dt.UTC)


def test_each_reason_is_a_named_part():
    parts = priority_parts(
        now=NOW,
        waiting_since=NOW - dt.timedelta(minutes=95),
        intent="complaint",
        followers=12_500,
        verified=True,
        vip=True,
        rating=1,
    )
    assert parts == [
        ("waiting 1 h 35 min", 3),
        ("complaint", 10),
        ("12k followers", 10),
        ("verified account", 5),
        ("VIP customer", 15),
        ("1-star review", 10),
    ]


def test_a_quiet_praise_from_a_small_account_scores_little():
    assert priority_parts(now=NOW, waiting_since=NOW, intent="compliment", followers=40) == [
        ("compliment", 2)
    ]


def test_waiting_time_is_capped():
    parts = priority_parts(now=NOW, waiting_since=NOW - dt.timedelta(days=9))
    assert parts == [("waiting 9 d 0 h", 20)]


@pytest.mark.django_db
def test_ingest_stores_the_score_and_its_parts():
    channel = make_channel()
    big = author("u1", followers=150_000, verified=True)
    ingest_batch(
        channel_id=channel.pk,
        items=[item("m1", text="Slechtste service ooit 😡", author=big)],
    )
    ticket = Ticket.objects.get()
    assert ticket.priority_parts == [
        ["complaint", 10],
        ["150k followers", 15],
        ["verified account", 5],
    ]
    assert ticket.priority == 30


@pytest.mark.django_db
def test_a_vip_customer_counts_also_when_merged_into_a_vip():
    channel = make_channel()
    ingest_batch(channel_id=channel.pk, items=[item("m1", text="ok")])
    ticket = Ticket.objects.get()
    vip = Customer.objects.create(display_name="Known buyer", vip=True)
    Customer.objects.filter(pk=ticket.customer_id).update(merged_into=vip)
    ingest_batch(channel_id=channel.pk, items=[item("m2", text="ok")])
    ticket.refresh_from_db()
    assert ["VIP customer", 15] in ticket.priority_parts


@pytest.mark.django_db
def test_the_refresh_adds_waiting_time_to_open_tickets_only():
    channel = make_channel()
    just_now = timezone.now() - dt.timedelta(minutes=5)
    ingest_batch(
        channel_id=channel.pk,
        items=[
            item("m1", thread="a", text="ok", at=just_now),
            item("m2", thread="b", uid="u2", text="ok", at=just_now),
        ],
    )
    Ticket.objects.filter(thread_key="b").update(status=TicketStatus.CLOSED)
    assert Ticket.objects.get(thread_key="a").priority == 0
    changed = priority_refresh(now=timezone.now() + dt.timedelta(hours=2))
    assert changed == 1
    waiting = Ticket.objects.get(thread_key="a")
    assert waiting.priority == 4 and waiting.priority_parts[0][0].startswith("waiting 2 h")
    assert Ticket.objects.get(thread_key="b").priority == 0

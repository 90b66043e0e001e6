"""The conversations export: one row per ticket, streamed in chunks, formula cells defused."""

import csv
import io

import pytest
from django.utils import timezone

from inbox.models import Customer, Ticket
from inbox.reports import export
from tests.personas import person, tickets

pytestmark = pytest.mark.django_db


def _rows(client) -> list[dict]:
    response = client.get("/dashboard/conversations.csv", {"range": "7d"})
    assert response.streaming
    text = b"".join(response.streaming_content).decode()
    return list(csv.DictReader(io.StringIO(text)))


def test_each_conversation_is_one_row_with_its_times(client):
    client.force_login(person("lotte", "lead"))
    made = tickets(3)
    rows = _rows(client)
    assert [int(r["ticket"]) for r in rows] == [t.pk for t in made]
    assert rows[0]["first_inbound_at"] and rows[0]["channel"]


def test_rows_across_chunk_boundaries_are_each_exported_once(client, monkeypatch):
    monkeypatch.setattr(export, "CHUNK", 2)
    client.force_login(person("lotte", "lead"))
    made = tickets(5)
    assert [int(r["ticket"]) for r in _rows(client)] == [t.pk for t in made]


def test_a_customer_name_that_is_a_formula_is_defused(client):
    client.force_login(person("lotte", "lead"))
    (ticket,) = tickets(1)
    Customer.objects.filter(pk=ticket.customer_id).update(display_name="=HYPERLINK(1)")
    assert _rows(client)[0]["customer"] == "'=HYPERLINK(1)"


def test_tickets_outside_the_period_are_left_out(client):
    import datetime as dt

    client.force_login(person("lotte", "lead"))
    old, new = tickets(2)
    Ticket.objects.filter(pk=old.pk).update(created_at=timezone.now() - dt.timedelta(days=60))
    assert [int(r["ticket"]) for r in _rows(client)] == [new.pk]

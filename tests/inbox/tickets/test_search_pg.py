"""Search in message text on PostgreSQL: each message is stemmed in its own language, the
search text in Dutch and in English (migration inbox/0026,
``inbox.tickets.selectors.SEARCH_DOCUMENT``)."""

import pytest
from django.db import connection

from inbox.ingest.services import ingest_batch
from inbox.models import Ticket
from inbox.tickets.selectors import FTS_MATCH, search_matches
from tests.factories import item, make_channel

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]


def _ticket_saying(text: str, language: str) -> int:
    result = ingest_batch(
        channel_id=make_channel().pk,
        items=[item("m1", text=text, language=language), item("m2", thread="t2", text="Hallo")],
    )
    return Ticket.objects.get(pk__in=result.ticket_ids, thread_key="t1").pk


def _found(text: str) -> list[int]:
    return search_matches(text)[1]


def test_a_dutch_message_is_found_by_another_form_of_its_words():
    ticket = _ticket_saying("Mijn pakketten zijn kapot aangekomen", "nl")
    assert _found("pakket") == [ticket]


def test_an_english_message_is_found_by_another_form_of_its_words():
    ticket = _ticket_saying("Two of my orders never arrived", "en")
    assert _found("ordered") == [ticket]


def test_a_message_of_unknown_language_is_found_by_dutch_and_by_english_forms():
    ticket = _ticket_saying("De pakketten en the orders zijn weg", "")
    assert _found("pakket") == [ticket]
    assert _found("ordered") == [ticket]


def test_a_word_written_as_in_the_message_is_found_whatever_the_message_is_labelled():
    ticket = _ticket_saying("Waar blijven mijn bestellingen", "en")
    assert _found("bestellingen") == [ticket]


def test_a_word_in_no_message_finds_nothing():
    _ticket_saying("Mijn pakketten zijn kapot aangekomen", "nl")
    assert _found("fietsbel") == []


def test_the_search_reads_the_full_text_index():
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(f"EXPLAIN {FTS_MATCH}", ["pakket", "pakket"])
        plan = "\n".join(line for (line,) in cursor.fetchall())
    assert "message_text_search" in plan, plan

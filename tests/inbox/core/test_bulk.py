"""inbox.core.bulk: reserved ids, on SQLite and on PostgreSQL."""

import pytest

from inbox.core import bulk
from inbox.models import Ticket
from tests.factories import make_channel

pytestmark = pytest.mark.django_db


def _ticket(channel, key: str) -> Ticket:
    return Ticket.objects.create(channel=channel, thread_key=key, kind="mention")


def test_reserved_ids_come_after_every_id_given_so_far():
    channel = make_channel()
    first = _ticket(channel, "t1")
    assert bulk.reserve_ids(Ticket, 3) == [first.pk + 1, first.pk + 2, first.pk + 3]


def test_a_row_inserted_after_a_reservation_never_gets_a_reserved_id():
    channel = make_channel()
    _ticket(channel, "t1")
    reserved = bulk.reserve_ids(Ticket, 3)
    assert _ticket(channel, "t2").pk > max(reserved)


def test_two_reservations_never_share_an_id():
    make_channel()
    first, second = bulk.reserve_ids(Ticket, 3), bulk.reserve_ids(Ticket, 2)
    assert not set(first) & set(second)


def test_rows_take_their_reserved_ids():
    channel = make_channel()
    reserved = bulk.reserve_ids(Ticket, 2)
    bulk.insert_rows(
        Ticket,
        {"id": reserved, "thread_key": ["a", "b"]},
        constants={"channel": channel.pk, "kind": "mention"},
    )
    assert sorted(Ticket.objects.values_list("pk", flat=True)) == reserved
    assert _ticket(channel, "c").pk > max(reserved)

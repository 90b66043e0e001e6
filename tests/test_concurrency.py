"""Two workers at once: the database, not a lookup, keeps every message once."""

import threading

import pytest
from django.db import connection

from inbox.ingest.services import ingest_batch
from inbox.models import Customer, Identity, Message, Ticket
from tests.factories import item, make_channel

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _run_at_once(*calls):
    barrier = threading.Barrier(len(calls))
    errors = []

    def run(call):
        try:
            barrier.wait()
            call()
        except Exception as exc:  # noqa: BLE001 - surfaced below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(c,)) for c in calls]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []


def test_two_concurrent_ingests_of_the_same_batch_store_each_message_once():
    channel = make_channel()
    batch = [item(f"m{n}", thread=f"t{n % 7}", uid=f"u{n % 11}") for n in range(200)]
    _run_at_once(*[lambda: ingest_batch(channel_id=channel.pk, items=batch)] * 2)
    assert Message.objects.count() == 200
    assert Ticket.objects.count() == 7
    assert Identity.objects.count() == 11
    assert Customer.objects.count() == 11


def test_concurrent_ingests_on_two_channels_of_one_platform_share_new_customers():
    first, second = make_channel(), make_channel()
    batch = [item(f"m{n}", thread=f"t{n}", uid=f"u{n}") for n in range(50)]
    _run_at_once(
        lambda: ingest_batch(channel_id=first.pk, items=batch),
        lambda: ingest_batch(channel_id=second.pk, items=batch),
    )
    assert Identity.objects.count() == 50
    assert Customer.objects.count() == 50  # no orphan customer left by the losing worker
    assert Message.objects.count() == 100

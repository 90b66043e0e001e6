"""Outbound webhooks through a worker killed with SIGKILL mid-run: every event reaches the
receiver, signed, exactly once per delivery id and in order per ticket.

Real processes: the events are written (outbox rows, in the changes' transactions) while no
worker runs; a worker starts delivering to a slow local receiver and is killed after a few
deliveries; a second worker finishes. A delivery the receiver got but the killed worker did not
record arrives again with the same ``Webcare-Delivery`` id (at least once, deduplicated by id,
as docs/api.md tells receivers to do), so after deduplication each event is seen exactly once.
"""

from __future__ import annotations

import time

import pytest
from django.conf import settings

from inbox.api import services as api_services
from inbox.events import services as events
from inbox.models import DeliveryStatus, OutboundDelivery
from inbox.tickets import services as ticket_services
from tests.inbox.api.receiver import Receiver
from tests.personas import person, tickets
from tests.processes import Processes, wait_for

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def slow_receiver():
    receiver = Receiver()
    handler = receiver.server.RequestHandlerClass
    original = handler.do_POST

    def slow(self):
        time.sleep(0.15)
        original(self)

    handler.do_POST = slow
    yield receiver
    receiver.close()


@pytest.fixture
def procs():
    # A short lease, so what the killed worker had claimed is sent again within the test.
    processes = Processes(
        settings.REDIS_URL, WEBHOOKS_ALLOW_PRIVATE="1", WEBHOOKS_LEASE_SECONDS="2"
    )
    yield processes
    processes.stop_all()


def test_a_killed_worker_loses_no_event_and_breaks_no_order(
    slow_receiver, procs, monkeypatch, settings
):
    settings.WEBHOOKS_ALLOW_PRIVATE = True
    monkeypatch.setattr(events, "_kick", lambda: None)  # only the workers deliver here
    admin, agent = person("ada", "admin"), person("anna", "lead")
    sub = api_services.subscription_create(
        user=admin, url=slow_receiver.url, events=["ticket.assigned", "ticket.closed"]
    )
    slow_receiver.secret = sub.secret
    made = tickets(3)
    for _ in range(3):
        for t in made:
            ticket_services.ticket_claim(ticket_id=t.pk, user=agent)
            ticket_services.ticket_close(ticket_id=t.pk, user=agent)
            ticket_services.ticket_reopen(ticket_id=t.pk, user=agent)
            ticket_services.ticket_release(ticket_id=t.pk, user=agent)
    expected = list(OutboundDelivery.objects.order_by("pk").values_list("pk", "ticket_id"))
    assert len(expected) == 18

    queue = "from inbox.tasks import webhooks_deliver; webhooks_deliver.delay()"
    first = procs.worker("first")
    assert procs.run(queue).returncode == 0
    assert wait_for(lambda: len(slow_receiver.delivery_ids) >= 4, 60), procs.logs()
    procs.kill(first)
    procs.worker("second")
    assert procs.run(queue).returncode == 0

    def all_delivered() -> bool:
        pending = OutboundDelivery.objects.exclude(status=DeliveryStatus.DELIVERED).count()
        if pending:  # as the beat schedule would: another run once the lease has run out
            procs.run(queue)
        return pending == 0

    assert wait_for(all_delivered, 90, every=3), procs.logs()
    assert slow_receiver.bad_signatures == 0
    seen: list[int] = []
    for raw in slow_receiver.delivery_ids:
        if int(raw) not in seen:
            seen.append(int(raw))
    assert sorted(seen) == [pk for pk, _ in expected]
    # Sent again: at most the killed worker's batch in flight, which holds one row per ticket.
    duplicates = [
        pk for pk in slow_receiver.delivery_ids if slow_receiver.delivery_ids.count(pk) > 1
    ]
    assert len(slow_receiver.delivery_ids) - len(seen) <= len(made), duplicates
    ticket_of = dict(expected)
    for t in made:
        mine = [pk for pk in seen if ticket_of[pk] == t.pk]
        assert mine == sorted(mine)

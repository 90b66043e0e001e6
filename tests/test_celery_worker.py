"""A real Celery worker against Redis polls the simulator end to end."""

import pytest
from django.conf import settings

from channels.models import Channel
from channels.tasks import poll_channel
from inbox.models import Message, Ticket
from tests.factories import make_channel
from tests.processes import Processes, wait_for

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def worker():
    from webcare.celery import app

    with app.connection_for_write() as conn:
        conn.default_channel.queue_purge("celery")
    procs = Processes(settings.REDIS_URL)
    procs.worker()
    yield procs
    procs.stop_all()


def test_a_worker_polls_the_simulator_into_tickets(worker):
    channel = make_channel(settings={"seed": 11, "per_poll": 10})
    poll_channel.delay(channel.pk)
    assert wait_for(lambda: Message.objects.filter(channel=channel).count() >= 8, 45), worker.logs()
    channel.refresh_from_db()
    assert channel.cursor["seq"] == 10
    assert Ticket.objects.filter(channel=channel).exists()

    # The same poll delivered again (a redelivery after a lost ack) stores nothing twice.
    channel.cursor = {}
    channel.save(update_fields=["cursor"])
    before = Message.objects.filter(channel=channel).count()
    poll_channel.delay(channel.pk)
    assert wait_for(lambda: Channel.objects.get(pk=channel.pk).cursor.get("seq") == 10, 45)
    assert Message.objects.filter(channel=channel).count() == before

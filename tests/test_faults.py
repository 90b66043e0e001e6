"""Workers killed with SIGKILL mid-poll and mid-send: nothing lost, nothing stored or posted twice.

Real PostgreSQL, real Redis, real Celery worker processes; the platform is a fake on loopback
that counts every post it receives.
"""

import time

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model

from channels.models import Channel
from channels.tasks import poll_channel
from inbox.ingest.services import ingest_batch
from inbox.models import DeliveryState, Message, Ticket
from inbox.replies.services import reply_queue
from tests.factories import item, make_channel
from tests.fault_platform import FakePlatform
from tests.processes import Processes, wait_for

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.django_db(transaction=True)]

# Short enough for a test, long enough that nothing is redelivered while it still runs.
VISIBILITY = 6


@pytest.fixture
def workers():
    from webcare.celery import app

    with app.connection_for_write() as conn:
        conn.default_channel.queue_purge("celery")
    pool = Processes(
        settings.REDIS_URL,
        CELERY_VISIBILITY_TIMEOUT=str(VISIBILITY),
        CELERY_RESTORE_SWEEP_SECONDS="1",
        POLL_LEASE_SECONDS="4",
        # An attempt is certainly over after this; a redelivered send waits that long.
        CELERY_TASK_TIME_LIMIT="8",
    )
    yield pool
    pool.stop_all()


@pytest.fixture
def platform():
    fake = FakePlatform(items=60)
    yield fake
    fake.close()


def test_a_worker_killed_mid_poll_loses_and_duplicates_nothing(workers, platform):
    channel = make_channel(kind="test_loopback", settings={"url": platform.url})
    platform.stall_fetch = 30
    victim = workers.worker()
    poll_channel.delay(channel.pk)
    assert platform.fetch_started.wait(30)
    workers.kill(victim)

    platform.stall_fetch = 0
    workers.worker()
    # The killed task comes back after the visibility timeout; beat would also poll again.
    time.sleep(VISIBILITY)
    poll_channel.delay(channel.pk)
    assert wait_for(lambda: Message.objects.filter(channel=channel).count() == 60)
    assert wait_for(lambda: Channel.objects.get(pk=channel.pk).cursor.get("since") == 60)
    ids = list(Message.objects.filter(channel=channel).values_list("external_id", flat=True))
    assert sorted(ids) == sorted(f"item-{n}" for n in range(60))
    assert Ticket.objects.filter(channel=channel).count() == 15


def test_a_worker_killed_mid_send_posts_the_reply_exactly_once(workers, platform):
    channel = make_channel(kind="test_loopback", settings={"url": platform.url})
    ingest_batch(channel_id=channel.pk, items=[item("in-1", text="Where is my parcel?")])
    ticket = Ticket.objects.get(channel=channel)
    agent = get_user_model().objects.create_user("anna")
    platform.stall_post = 30
    victim = workers.worker()
    message = reply_queue(ticket=ticket, author=agent, text="It is on its way!")
    assert platform.post_received.wait(30)  # the platform has it; we do not know yet
    workers.kill(victim)
    assert Message.objects.get(pk=message.pk).delivery_state == DeliveryState.SENDING

    platform.stall_post = 0
    workers.worker()
    assert wait_for(
        lambda: Message.objects.get(pk=message.pk).delivery_state == DeliveryState.SENT,
        timeout=90,
    )
    assert platform.post_counts() == {message.idempotency_key: 1}
    assert Message.objects.get(pk=message.pk).external_id == f"post-{message.idempotency_key}"

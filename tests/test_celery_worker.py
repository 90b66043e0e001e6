"""A real Celery worker against Redis polls the simulator end to end."""

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from channels.tasks import poll_channel
from inbox.models import Message, Ticket
from tests.factories import make_channel

ROOT = Path(__file__).resolve().parent.parent

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def worker():
    db = connection.settings_dict
    url = f"postgres://{db['USER'] or 'postgres'}@{db['HOST']}:{db['PORT'] or 5432}/{db['NAME']}"
    env = {**os.environ, "DATABASE_URL": url, "REDIS_URL": settings.REDIS_URL}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "webcare",
            "worker",
            "-l",
            "warning",
            "--concurrency",
            "1",
            "--pool",
            "solo",
            "-n",
            f"test-{os.getpid()}@%h",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    yield proc
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()


def _wait_for(predicate, timeout=45.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.3)
    return False


def test_a_worker_polls_the_simulator_into_tickets(worker):
    from webcare.celery import app

    with app.connection_for_write() as conn:
        conn.default_channel.queue_purge("celery")
    channel = make_channel(settings={"seed": 11, "per_poll": 10})
    poll_channel.delay(channel.pk)
    assert _wait_for(lambda: Message.objects.filter(channel=channel).count() >= 8), (
        worker.stdout.read1().decode() if worker.poll() is not None else "worker still running"
    )
    channel.refresh_from_db()
    assert channel.cursor["seq"] == 10
    assert Ticket.objects.filter(channel=channel).exists()

    # The same poll delivered again (a redelivery after a lost ack) stores nothing twice.
    channel.cursor = {}
    channel.save(update_fields=["cursor"])
    before = Message.objects.filter(channel=channel).count()
    poll_channel.delay(channel.pk)
    assert _wait_for(lambda: channel.__class__.objects.get(pk=channel.pk).cursor.get("seq") == 10)
    assert Message.objects.filter(channel=channel).count() == before

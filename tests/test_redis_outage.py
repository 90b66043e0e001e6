"""Redis stopped for a minute under live traffic: the web keeps serving and queueing replies,
queued replies go out once Redis is back, and polling resumes with no gap.

Everything runs as real processes (web server, Celery worker and beat) against a private Redis
that the test stops and starts, and a fake platform on loopback whose items appear over time.
``WEBCARE_OUTAGE_SECONDS`` sets the outage (60 by default).
"""

import os
import time

import pytest
import requests
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from channels.models import Channel
from inbox.models import DeliveryState, Message, Ticket
from tests.factories import make_channel
from tests.fault_platform import FakePlatform
from tests.processes import PrivateRedis, Processes, free_port, schedule_sweep, wait_for

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.django_db(transaction=True)]

OUTAGE = int(os.environ.get("WEBCARE_OUTAGE_SECONDS", "60"))


@pytest.fixture
def redis_server():
    server = PrivateRedis()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def platform():
    fake = FakePlatform(items=100_000, per_second=4)
    yield fake
    fake.close()


def _log_in(base: str, username: str, password: str) -> requests.Session:
    session = requests.Session()
    session.get(f"{base}/login/", timeout=10)
    response = session.post(
        f"{base}/login/",
        data={
            "username": username,
            "password": password,
            "csrfmiddlewaretoken": session.cookies["csrftoken"],
        },
        headers={"Referer": f"{base}/login/"},
        timeout=10,
    )
    assert response.status_code == 200, response.text[:500]
    return session


def test_a_redis_outage_loses_nothing_and_the_web_keeps_working(redis_server, platform):
    channel = make_channel(kind="test_loopback", settings={"url": platform.url}, poll_interval=2)
    admin = get_user_model().objects.create_user("ada", password="a-long-password-1")
    admin.groups.add(Group.objects.get_or_create(name="admin")[0])
    schedule_sweep()
    procs = Processes(
        redis_server.url,
        CELERY_VISIBILITY_TIMEOUT="30",
        CELERY_RESTORE_SWEEP_SECONDS="2",
        POLL_LEASE_SECONDS="20",
    )
    try:
        procs.worker()
        procs.beat()
        port = free_port()
        procs.web(port)
        base = f"http://127.0.0.1:{port}"
        assert wait_for(lambda: Message.objects.filter(channel=channel).count() >= 8, 180), (
            procs.logs()
        )

        redis_server.stop()
        outage_started = time.monotonic()
        # The web serves pages and takes replies while Redis is down.
        session = _log_in(base, "ada", "a-long-password-1")
        assert session.get(f"{base}/settings/channels/", timeout=10).status_code == 200
        health = session.get(f"{base}/healthz", timeout=10).json()
        assert health["database"] is True and health["broker"] is False
        ticket = Ticket.objects.filter(channel=channel).order_by("pk").first()
        queued = procs.run(
            "from django.contrib.auth import get_user_model;"
            "from inbox.models import Ticket; from inbox.tickets.services import reply_queue;"
            f"m = reply_queue(ticket=Ticket.objects.get(pk={ticket.pk}),"
            " author=get_user_model().objects.get(username='ada'), text='Sorry, on it!');"
            "print(m.pk)"
        )
        assert queued.returncode == 0, queued.stderr[-2000:]
        reply = Message.objects.get(pk=int(queued.stdout.strip().splitlines()[-1]))
        assert reply.delivery_state == DeliveryState.QUEUED

        time.sleep(max(0.0, OUTAGE - (time.monotonic() - outage_started)))
        redis_server.start()

        # The reply goes out once, after Redis is back.
        assert wait_for(
            lambda: Message.objects.get(pk=reply.pk).delivery_state == DeliveryState.SENT, 180
        ), procs.logs()
        assert platform.post_counts() == {reply.idempotency_key: 1}

        # Polling resumes, and every item the platform published is stored, with no gap.
        resumed_at = Channel.objects.get(pk=channel.pk).cursor.get("since", 0)
        assert wait_for(
            lambda: Channel.objects.get(pk=channel.pk).cursor.get("since", 0) > resumed_at + 20,
            120,
        ), procs.logs()
        cursor = Channel.objects.get(pk=channel.pk).cursor["since"]
        stored = set(
            Message.objects.filter(channel=channel, direction="in").values_list(
                "external_id", flat=True
            )
        )
        assert {f"item-{n}" for n in range(cursor)} <= stored
        assert len(stored) == Message.objects.filter(channel=channel, direction="in").count()
    finally:
        procs.stop_all()

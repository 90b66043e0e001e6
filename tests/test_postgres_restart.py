"""PostgreSQL restarted under live traffic: web, worker and beat recover by themselves.

The test runs its own PostgreSQL cluster and Redis on free ports, so restarting them disturbs
nothing else; web, worker and beat are real processes.
"""

import time

import psycopg
import pytest
import requests

from tests.fault_platform import FakePlatform
from tests.processes import PrivatePostgres, PrivateRedis, Processes, free_port, wait_for

pytestmark = [pytest.mark.postgres, pytest.mark.redis]


@pytest.fixture
def cluster():
    server = PrivatePostgres()
    server.start()
    server.create_database()
    yield server
    server.destroy()


@pytest.fixture
def redis_server():
    server = PrivateRedis()
    server.start()
    yield server
    server.stop()


def _count(url: str, sql: str) -> int:
    try:
        with psycopg.connect(url.replace("postgres://", "postgresql://"), connect_timeout=2) as c:
            return c.execute(sql).fetchone()[0]
    except psycopg.OperationalError:
        return -1


def test_web_and_workers_recover_from_a_postgres_restart(cluster, redis_server):
    platform = FakePlatform(items=100_000, per_second=4)
    procs = Processes(redis_server.url, database_url=cluster.url, POLL_LEASE_SECONDS="20")
    try:
        setup = procs.run(
            "from django.core.management import call_command\n"
            "call_command('migrate', verbosity=0)\n"
            "from django.contrib.auth import get_user_model\n"
            "from django.contrib.auth.models import Group\n"
            "from channels.services import channel_create\n"
            "u = get_user_model().objects.create_user('ada', password='a-long-password-1')\n"
            "u.groups.add(Group.objects.get_or_create(name='admin')[0])\n"
            "channel_create(kind='test_loopback', name='fake', poll_interval=2,"
            f" settings={{'url': '{platform.url}'}})\n"
        )
        assert setup.returncode == 0, setup.stderr[-2000:]
        procs.worker()
        procs.beat()
        port = free_port()
        procs.web(port)
        base = f"http://127.0.0.1:{port}"
        messages = "SELECT count(*) FROM inbox_message"
        assert wait_for(lambda: _count(cluster.url, messages) >= 8, 90), procs.logs()
        session = requests.Session()
        assert session.get(f"{base}/login/", timeout=10).status_code == 200

        cluster.restart()
        before = _count(cluster.url, messages)

        # Web: the next requests are served (stale connections are replaced, not reused).
        assert wait_for(lambda: session.get(f"{base}/login/", timeout=10).status_code == 200, 30), (
            procs.logs()
        )
        assert session.get(f"{base}/healthz", timeout=10).json()["database"] is True
        # Workers and beat: polling goes on by itself.
        assert wait_for(lambda: _count(cluster.url, messages) >= before + 20, 120), procs.logs()
        assert all(p.poll() is None for p in procs.procs), "a process died: " + procs.logs()
        time.sleep(0.1)
    finally:
        procs.stop_all()
        platform.close()

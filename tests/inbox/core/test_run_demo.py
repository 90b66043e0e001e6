"""`make demo`'s last step, run for real: the address once the server answers, the log-ins
once, and Ctrl-C stopping the web server, the worker and beat within five seconds."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from inbox.management.commands.run_demo import answers
from tests.processes import ROOT, free_port, wait_for

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.django_db(transaction=True)]

PASSWORDS = {"admin": "pw-admin-x1", "lead": "pw-lead-x2", "anna": "pw-anna-x3"}


def _children(pid: int) -> set[int]:
    """Every living process below ``pid`` (from /proc)."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            fields = stat.rsplit(")", 1)[1].split()
            if fields[0] != "Z":
                parents[int(entry.name)] = int(fields[1])
    found: set[int] = set()
    frontier = {pid}
    while frontier:
        frontier = {child for child, parent in parents.items() if parent in frontier} - found
        found |= frontier
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.fixture
def demo():
    data_dir = Path(tempfile.mkdtemp(prefix="webcare-demo-"))
    (data_dir / "demo-credentials.json").write_text(json.dumps(PASSWORDS))
    db = connection.settings_dict
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{db['USER'] or 'postgres'}@{db['HOST']}:"
        f"{db['PORT'] or 5432}/{db['NAME']}",
        "REDIS_URL": settings.REDIS_URL,
        "WEBCARE_DATA_DIR": str(data_dir),
        "WEBCARE_PORT": str(port),
    }
    out = data_dir / "out.log"
    with out.open("wb") as sink:
        proc = subprocess.Popen(
            [sys.executable, "manage.py", "run_demo"],
            cwd=ROOT,
            env=env,
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    yield proc, port, out
    if proc.poll() is None:
        proc.kill()
        proc.wait()


def test_the_address_shows_once_the_server_answers_and_ctrl_c_stops_everything_in_5s(demo):
    proc, port, out = demo
    url = f"http://127.0.0.1:{port}/"
    assert wait_for(lambda: url in out.read_text(), timeout=120), out.read_text()
    # Printed only once the server answers it ($WEBCARE_PORT chose the port).
    assert answers(port)
    children = _children(proc.pid)
    assert len(children) >= 3  # web, worker (and its pool), beat

    started = time.monotonic()
    os.kill(proc.pid, signal.SIGINT)
    proc.wait(timeout=10)
    exited = time.monotonic() - started
    assert wait_for(lambda: not any(_alive(p) for p in children), timeout=10, every=0.05)
    gone = time.monotonic() - started
    assert gone <= 5.0, f"run_demo exited after {exited:.1f} s, its processes after {gone:.1f} s"
    assert not answers(port)

    text = out.read_text()
    assert text.count(url) == 1
    for password in PASSWORDS.values():
        assert text.count(password) == 1, text

"""Real processes for fault tests: a private Redis server, Celery worker and beat, a web server.

Each test gets its own Redis on a free port, so stopping it never disturbs anything else on the
machine. The processes use the test database (committed data: ``transaction=True`` tests).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from django.db import connection

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(predicate, timeout: float = 60.0, every: float = 0.2) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(every)
    return False


class PrivateRedis:
    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [
                shutil.which("redis-server") or "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        assert wait_for(self.ping, 15), "private redis-server did not start"

    def ping(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as sock:
                sock.sendall(b"PING\r\n")
                return sock.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(timeout=10)


class Processes:
    """Worker, beat and web processes sharing the test database and one broker."""

    def __init__(self, redis_url: str, database_url: str = "", **env: str) -> None:
        if not database_url:
            db = connection.settings_dict
            database_url = (
                f"postgres://{db['USER'] or 'postgres'}@{db['HOST']}:"
                f"{db['PORT'] or 5432}/{db['NAME']}"
            )
        self.env = {
            **os.environ,
            "DATABASE_URL": database_url,
            "REDIS_URL": redis_url,
            **env,
        }
        self.procs: list[subprocess.Popen] = []
        self.tmp = tempfile.mkdtemp(prefix="webcare-proc-")

    def _spawn(self, *args: str) -> subprocess.Popen:
        log = open(Path(self.tmp) / f"{len(self.procs)}.log", "wb")  # noqa: SIM115
        proc = subprocess.Popen(
            [sys.executable, *args], cwd=ROOT, env=self.env, stdout=log, stderr=log
        )
        self.procs.append(proc)
        return proc

    def worker(self, name: str = "w") -> subprocess.Popen:
        return self._spawn(
            "-m",
            "celery",
            "-A",
            "webcare",
            "worker",
            "-l",
            "warning",
            "--pool",
            "solo",
            "--include",
            "tests.fault_platform",
            "-n",
            f"{name}-{os.getpid()}-{len(self.procs)}@%h",
        )

    def kill(self, proc: subprocess.Popen) -> None:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)

    def beat(self) -> subprocess.Popen:
        return self._spawn(
            "-m",
            "celery",
            "-A",
            "webcare",
            "beat",
            "-l",
            "warning",
            "-s",
            str(Path(self.tmp) / "beat-schedule"),
        )

    def web(self, port: int) -> subprocess.Popen:
        proc = self._spawn("manage.py", "runserver", f"127.0.0.1:{port}", "--noreload")
        assert wait_for(lambda: _port_open(port), 30), "web server did not start"
        return proc

    def run(self, code: str) -> subprocess.CompletedProcess:
        """Run Python in a fresh Django process (as a web request would), and wait."""
        return subprocess.run(
            [sys.executable, "manage.py", "shell", "-c", "import tests.fault_platform\n" + code],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=60,
        )

    def logs(self) -> str:
        return "\n".join(
            p.read_text(errors="replace")[-2000:] for p in Path(self.tmp).glob("*.log")
        )

    def stop_all(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.terminate()
        for proc in self.procs:
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
        shutil.rmtree(self.tmp, ignore_errors=True)


def _port_open(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


class PrivatePostgres:
    """A throw-away PostgreSQL cluster on a free port, run as the ``postgres`` system user."""

    def __init__(self) -> None:
        self.port = free_port()
        self.dir = tempfile.mkdtemp(prefix="webcare-pg-")
        shutil.chown(self.dir, "postgres")
        bins = sorted(Path("/usr/lib/postgresql").glob("*/bin"))
        assert bins, "PostgreSQL server binaries not found under /usr/lib/postgresql"
        self.bin = bins[-1]
        self.url = f"postgres://postgres@127.0.0.1:{self.port}/webcare"

    def _as_postgres(self, *args: str) -> None:
        subprocess.run(
            ["runuser", "-u", "postgres", "--", *args],
            check=True,
            capture_output=True,
            timeout=120,
        )

    def start(self) -> None:
        if not (Path(self.dir) / "PG_VERSION").exists():
            self._as_postgres(
                str(self.bin / "initdb"),
                "-D",
                self.dir,
                "-A",
                "trust",
                "-U",
                "postgres",
                "--no-sync",
            )
        self._as_postgres(
            str(self.bin / "pg_ctl"),
            "-D",
            self.dir,
            "-w",
            "-l",
            f"{self.dir}/server.log",
            "-o",
            f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off",
            "start",
        )

    def create_database(self, name: str = "webcare") -> None:
        self._as_postgres(str(self.bin / "createdb"), "-h", "127.0.0.1", "-p", str(self.port), name)

    def restart(self) -> None:
        # Stop and start (not `pg_ctl restart`, which would hand the server our output pipes).
        self._as_postgres(str(self.bin / "pg_ctl"), "-D", self.dir, "-w", "-m", "fast", "stop")
        self.start()

    def destroy(self) -> None:
        with contextlib.suppress(subprocess.CalledProcessError):
            self._as_postgres(
                str(self.bin / "pg_ctl"), "-D", self.dir, "-w", "-m", "immediate", "stop"
            )
        shutil.rmtree(self.dir, ignore_errors=True)


def schedule_sweep(every_seconds: int = 5) -> None:
    """Make sure beat runs the stalled-reply sweep.

    Data migrations create it, but transactional tests flush the database after each test, and
    with it the rows those migrations made; tests that rely on the sweep schedule it themselves.
    """
    from django_celery_beat.models import IntervalSchedule, PeriodicTask

    every, _ = IntervalSchedule.objects.get_or_create(
        every=every_seconds, period=IntervalSchedule.SECONDS
    )
    PeriodicTask.objects.update_or_create(
        name="redeliver stalled replies",
        defaults={"task": "channels.tasks.redeliver_stalled_replies", "interval": every},
    )

"""Run the web server, a Celery worker and Celery beat together until Ctrl-C.

The address is printed once the server answers it (not when it merely starts), with the demo's
log-ins, once. Ctrl-C (or SIGTERM) stops all three within a few seconds: each runs in a process
group of its own, so the terminal's Ctrl-C reaches only this command, which asks each group to
stop (SIGTERM) and kills what is still there after ``STOP_GRACE`` seconds (the worker's pool
processes included).
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import signal
import subprocess
import sys
import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

# How long the server may take to answer its first request before the demo gives up.
START_TIMEOUT = 90.0
# Seconds each process gets to stop by itself after SIGTERM, before it is killed.
STOP_GRACE = 1.5


def answers(port: int) -> bool:
    """Whether the web server answers a request on ``port`` (any HTTP status counts)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
    try:
        conn.request("GET", "/login/")
        conn.getresponse().read()
        return True
    except OSError:
        return False
    finally:
        conn.close()


def stop_all(processes: dict[str, subprocess.Popen], grace: float = STOP_GRACE) -> None:
    """SIGTERM to every process group, then SIGKILL to those still there after ``grace``."""
    for proc in processes.values():
        _signal_group(proc, signal.SIGTERM)
    deadline = time.monotonic() + grace
    for proc in processes.values():
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=max(0.0, deadline - time.monotonic()))
    for proc in processes.values():
        # The group, not just the leader: the worker's pool processes go with it.
        _signal_group(proc, signal.SIGKILL)
        proc.wait()


def _signal_group(proc: subprocess.Popen, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, sig)


class Command(BaseCommand):
    help = "Run web, worker and beat for the demo; stop all three with Ctrl-C."

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--port",
            type=int,
            default=int(os.environ.get("WEBCARE_PORT", 8000)),
            help="Port of the web server (default: $WEBCARE_PORT, else 8000).",
        )

    def handle(self, *args, port: int, **options) -> None:
        stopping = False

        def stop(*_):
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        self.stdout.write("Starting the web server, a worker and beat…")
        processes = {
            name: subprocess.Popen(cmd, stdout=out, start_new_session=True)  # noqa: S603
            for name, (cmd, out) in self.commands(port).items()
        }
        try:
            self.wait_until_answering(port, processes, lambda: stopping)
            if not stopping:
                self.announce(port)
            while not stopping:
                exited = [(n, p.returncode) for n, p in processes.items() if p.poll() is not None]
                if exited:
                    name, code = exited[0]
                    self.stderr.write(f"{name} exited with {code}; stopping.")
                    break
                time.sleep(0.2)
        finally:
            self.stdout.write("Stopping…")
            stop_all(processes)
            self.stdout.write("Stopped.")

    def commands(self, port: int) -> dict[str, tuple[list[str], int | None]]:
        python = sys.executable
        beat_schedule = settings.DATA_DIR / "celerybeat-schedule"
        celery = [python, "-m", "celery", "-A", "webcare", "--quiet"]
        return {
            # The server's own banner names the address before it answers: this command
            # prints it once it does. Request lines and errors still show (stderr).
            "web": (
                [python, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"],
                subprocess.DEVNULL,
            ),
            "worker": (
                [*celery, "worker", "-l", "warning", "--concurrency", "2", "-n", "demo@%h"],
                None,
            ),
            "beat": ([*celery, "beat", "-l", "warning", "-s", str(beat_schedule)], None),
        }

    def wait_until_answering(self, port: int, processes, stopping) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        while not stopping():
            if answers(port):
                return
            web = processes["web"]
            if web.poll() is not None:
                raise CommandError(
                    f"The web server stopped before answering (exit {web.returncode}). "
                    f"Is port {port} in use? Choose another with WEBCARE_PORT."
                )
            if time.monotonic() > deadline:
                raise CommandError(f"The web server did not answer on port {port} in time.")
            time.sleep(0.25)

    def announce(self, port: int) -> None:
        self.stdout.write(self.style.SUCCESS(f"\nWebcare demo running at http://127.0.0.1:{port}/"))
        credentials_file = settings.DATA_DIR / "demo-credentials.json"
        if credentials_file.exists():
            from inbox.management.commands.demo_setup import DEMO_USERS, TRAINEES

            passwords = json.loads(credentials_file.read_text())
            self.stdout.write("Log in as (role: username / password):")
            for username, _first, _last, role, _signature in DEMO_USERS:
                if username in passwords:
                    note = "  (trainee: replies wait for the lead's approval)"
                    self.stdout.write(
                        f"  {role:6} {username:6} / {passwords[username]}"
                        + (note if username in TRAINEES else "")
                    )
        self.stdout.write("New simulated messages arrive every few seconds. Ctrl-C stops.\n")

"""Run the web server, a Celery worker and Celery beat together until Ctrl-C."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

from django.conf import settings
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Run web, worker and beat for the demo; stop all three with Ctrl-C."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--port", type=int, default=int(os.environ.get("WEBCARE_PORT", 8000)))

    def handle(self, *args, port: int, **options) -> None:
        python = sys.executable
        beat_schedule = settings.DATA_DIR / "celerybeat-schedule"
        commands = {
            "web": [python, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"],
            "worker": [
                python,
                "-m",
                "celery",
                "-A",
                "webcare",
                "worker",
                "-l",
                "warning",
                "--concurrency",
                "2",
                "-n",
                "demo@%h",
            ],
            "beat": [
                python,
                "-m",
                "celery",
                "-A",
                "webcare",
                "beat",
                "-l",
                "warning",
                "-s",
                str(beat_schedule),
            ],
        }
        processes = {name: subprocess.Popen(cmd) for name, cmd in commands.items()}  # noqa: S603
        url = f"http://127.0.0.1:{port}/"
        credentials_file = settings.DATA_DIR / "demo-credentials.json"
        self.stdout.write(self.style.SUCCESS(f"\nWebcare demo running at {url}"))
        if credentials_file.exists():
            for username, password in json.loads(credentials_file.read_text()).items():
                self.stdout.write(f"  log in as {username} / {password}")
        self.stdout.write("New simulated messages arrive every few seconds. Ctrl-C stops.\n")
        stopping = False

        def stop(*_):
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGTERM, stop)
        try:
            while not stopping:
                for name, proc in processes.items():
                    if proc.poll() is not None:
                        self.stderr.write(f"{name} exited with {proc.returncode}; stopping.")
                        stopping = True
                time.sleep(0.5)
        except KeyboardInterrupt:
            pass
        finally:
            for proc in processes.values():
                if proc.poll() is None:
                    proc.send_signal(signal.SIGTERM)
            for proc in processes.values():
                try:
                    proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    proc.kill()

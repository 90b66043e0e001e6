"""Delete stored customer media older than ``MEDIA_RETENTION_DAYS`` (or ``--days``).

The daily beat task runs the same service; this is for a first run, a changed setting, or a
deployment without beat.
"""

from __future__ import annotations

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from inbox.media.services import media_expire


class Command(BaseCommand):
    help = "Delete stored media (customers' photos, videos, files) older than N days."

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--days",
            type=int,
            default=None,
            help="Age in days (default: the MEDIA_RETENTION_DAYS setting).",
        )

    def handle(self, *args, days: int | None = None, **options) -> None:
        days = settings.MEDIA_RETENTION_DAYS if days is None else days
        if days < 0:
            raise CommandError("--days must be zero or more.")
        if not days:
            self.stdout.write("Retention is off (MEDIA_RETENTION_DAYS=0): nothing deleted.")
            return
        deleted = media_expire(days=days)
        self.stdout.write(f"Deleted {deleted} stored attachments older than {days} days.")

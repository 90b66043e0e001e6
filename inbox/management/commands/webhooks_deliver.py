"""Send the due outbound webhook deliveries now (what the scheduled task does), e.g. after an
outage: ``manage.py webhooks_deliver [--limit N]``."""

from django.core.management.base import BaseCommand

from inbox.api.webhooks import deliver_due


class Command(BaseCommand):
    help = "Send due outbound webhook deliveries."

    def add_arguments(self, parser):
        parser.add_argument("--limit", type=int, default=100_000)

    def handle(self, *args, limit: int, **options):
        sent = deliver_due(limit=limit)
        self.stdout.write(f"{sent} deliveries attempted")

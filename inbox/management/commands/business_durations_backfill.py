"""Store the business-time first response and resolution of tickets answered or closed before
those fields existed (migration 0017), so the dashboard's business-hours figures cover them.

    .venv/bin/python manage.py business_durations_backfill [--batch 2000]

A one-off walk over the tickets that miss a value, in batches by id (one short transaction and
one set-based UPDATE per batch, the calendars loaded once per batch), so it can run beside live
traffic and be stopped and started again: it only picks tickets still missing a value. New
tickets never need it; ``inbox.tickets.timing.business_durations_set`` runs when they are
answered or closed.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand
from django.db import transaction
from django.db.models import Q

from inbox.core import bulk
from inbox.core.business_time import Calendars
from inbox.models import Ticket
from inbox.tickets.timing import BUSINESS_DURATION_FIELDS, business_durations_set

MISSING = Q(first_inbound_at__isnull=False) & (
    Q(first_response_at__isnull=False, first_response_business_seconds__isnull=True)
    | Q(closed_at__isnull=False, resolution_business_seconds__isnull=True)
)


class Command(BaseCommand):
    help = "Fill the business-time durations of tickets answered or closed before they existed."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--batch", type=int, default=2000)

    def handle(self, *args, batch: int, **options) -> None:
        after, done = 0, 0
        fields = ["team_id", "first_inbound_at", "first_response_at", "closed_at"]
        while True:
            with transaction.atomic():
                tickets = list(
                    Ticket.objects.filter(MISSING, pk__gt=after)
                    .order_by("pk")
                    .only("pk", *fields, *BUSINESS_DURATION_FIELDS)[:batch]
                )
                if not tickets:
                    break
                calendars = Calendars({t.team_id for t in tickets})
                for ticket in tickets:
                    business_durations_set(ticket, calendars)
                bulk.update_rows(
                    Ticket,
                    [t.pk for t in tickets],
                    {
                        name: [getattr(t, name) for t in tickets]
                        for name in BUSINESS_DURATION_FIELDS
                    },
                )
            after = tickets[-1].pk
            done += len(tickets)
            self.stdout.write(f"{done} tickets")
        self.stdout.write(self.style.SUCCESS(f"Business times stored for {done} tickets."))

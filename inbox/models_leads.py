"""Models of the team-lead engines: intent corrections, SLAs and business hours, auto-acks,
routing rules, shifts and incidents.

Kept apart from ``inbox.models`` (which imports this module at its end, so Django sees these as
models of the ``inbox`` app) because they belong to one area and change together.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

__all__ = ["IntentCorrection"]


class IntentCorrection(models.Model):
    """A lead's correction of a ticket's intent, kept as a labelled example.

    The text and stars are copied, so the example outlives the ticket and can extend the
    lexicon's evaluation (``manage.py intent_report --corrections``).
    """

    ticket = models.ForeignKey(
        "inbox.Ticket", null=True, on_delete=models.SET_NULL, related_name="intent_corrections"
    )
    message = models.ForeignKey(
        "inbox.Message", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    text = models.TextField(blank=True)
    rating = models.PositiveSmallIntegerField(null=True, blank=True)
    language = models.CharField(max_length=8, blank=True)
    original = models.CharField(max_length=12, blank=True)
    corrected = models.CharField(max_length=12)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.original or '—'} → {self.corrected} on ticket {self.ticket_id}"

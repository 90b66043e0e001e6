"""The activity row every change writes."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from inbox.models.tickets import Ticket


class Activity(models.Model):
    """The audit trail: one row for every state change, who did it and what changed.

    Rows about a ticket carry it; settings changes (channels, users, teams, shifts, rules…) have
    no ticket and name what they changed in ``before``/``after`` ({"user": 5, "role": "lead"}).
    The audit log page (``inbox.audit.views``) shows both.
    """

    # No single-column indexes: ``activity_ticket_time`` and ``activity_actor_time`` lead with
    # these columns and serve the same lookups.
    ticket = models.ForeignKey(
        Ticket,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="activities",
        db_index=False,
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
    )
    verb = models.CharField(max_length=40)
    before = models.JSONField(default=dict, blank=True)
    after = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name_plural = "activities"
        indexes = [
            # The ticket's history beside the thread.
            models.Index(fields=["ticket", "created_at"], name="activity_ticket_time"),
            # The audit log page, filtered by who or what.
            models.Index(fields=["actor", "created_at"], name="activity_actor_time"),
            models.Index(fields=["verb", "created_at"], name="activity_verb_time"),
            # The unfiltered audit log and its date range, newest first, keyset paginated on
            # (created_at, id).
            models.Index(fields=["created_at", "id"], name="activity_time"),
        ]

    def __str__(self) -> str:
        return f"{self.verb} on {self.ticket_id}"

"""Incidents and the tickets linked to them."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class IncidentStatus(models.TextChoices):
    OPEN = "open", _("Open")
    RESOLVED = "resolved", _("Resolved")


class Incident(models.Model):
    """A known fault ("deliveries delayed in Utrecht") many customers write about.

    Tickets are linked by hand or by a routing rule; resolving answers every linked ticket with
    one reviewed template, personalised per customer, sent once per ticket, and closes them.
    """

    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    # The public status note ("We expect deliveries to be back to normal on Monday").
    public_note = models.TextField(blank=True)
    status = models.CharField(
        max_length=10, choices=IncidentStatus.choices, default=IncidentStatus.OPEN
    )
    reply_template = models.TextField(blank=True)
    # The answer in the customer's language, by primary subtag ({"nl": "...", "en": "..."});
    # ``reply_template`` goes to customers whose language has none here.
    reply_translations = models.JSONField(default=dict, blank=True)
    declared_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    declared_at = models.DateTimeField(default=timezone.now)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    resolved_at = models.DateTimeField(null=True, blank=True)
    tickets = models.ManyToManyField(
        "inbox.Ticket", through="IncidentTicket", related_name="incidents", blank=True
    )

    class Meta:
        ordering = ["-declared_at"]

    def __str__(self) -> str:
        return self.title


class IncidentTicket(models.Model):
    """A ticket linked to an incident, and the one reply the resolution sent it."""

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="links")
    ticket = models.ForeignKey("inbox.Ticket", on_delete=models.CASCADE, related_name="+")
    linked_at = models.DateTimeField(default=timezone.now)
    linked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    rule = models.ForeignKey(
        "inbox.Rule", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Set in the transaction that queues the resolution's reply: at most one per ticket.
    reply = models.OneToOneField(
        "inbox.Message", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["incident", "ticket"], name="incident_ticket_once")
        ]

    def __str__(self) -> str:
        return f"ticket {self.ticket_id} in incident {self.incident_id}"

"""What WhatsApp adds to a channel: its approved templates, what became of our messages, and
who opted out. Part of the ``channels`` app (imported by ``channels.models``)."""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class WhatsAppTemplate(models.Model):
    """A message template of the channel's WhatsApp Business Account, as last synchronised."""

    channel = models.ForeignKey(
        "channels.Channel", on_delete=models.CASCADE, related_name="whatsapp_templates"
    )
    template_id = models.CharField(max_length=64, blank=True)
    name = models.CharField(max_length=512)
    language = models.CharField(max_length=16)
    # MARKETING, UTILITY or AUTHENTICATION: what Meta charges the message as.
    category = models.CharField(max_length=32, blank=True)
    # APPROVED, PENDING, REJECTED, PAUSED, DISABLED, …: only APPROVED ones can be sent.
    status = models.CharField(max_length=32, blank=True)
    components = models.JSONField(default=list, blank=True)
    synced_at = models.DateTimeField(default=timezone.now)

    class Meta:
        app_label = "channels"
        ordering = ["name", "language"]
        constraints = [
            models.UniqueConstraint(
                fields=["channel", "name", "language"], name="whatsapp_template_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.language})"


class WhatsAppStatus(models.TextChoices):
    SENT = "sent", _("Sent")
    DELIVERED = "delivered", _("Delivered")
    READ = "read", _("Read")
    FAILED = "failed", _("Failed")


# Statuses only move forward. A failure counts only while nothing showed the message arrived:
# a "delivered" or "read" after a "failed" (another device of the customer) is the truth.
STATUS_RANK = {"sent": 1, "failed": 2, "delivered": 3, "read": 4}


class WhatsAppMessageStatus(models.Model):
    """The latest status Meta reported for one of our messages (by its ``wamid``).

    Kept apart from the message: a status may arrive before the send that produced the wamid
    has stored it, and in any order ("read" before "delivered" is normal)."""

    channel = models.ForeignKey("channels.Channel", on_delete=models.CASCADE, related_name="+")
    wamid = models.CharField(max_length=200)
    status = models.CharField(max_length=10, choices=WhatsAppStatus.choices)
    rank = models.PositiveSmallIntegerField(default=0)
    status_at = models.DateTimeField()
    recipient_id = models.CharField(max_length=64, blank=True)
    error_code = models.IntegerField(null=True, blank=True)
    error_text = models.TextField(blank=True)
    pricing_category = models.CharField(max_length=32, blank=True)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        app_label = "channels"
        constraints = [
            models.UniqueConstraint(fields=["channel", "wamid"], name="whatsapp_status_once")
        ]

    def __str__(self) -> str:
        return f"{self.wamid}: {self.status}"


class WhatsAppContact(models.Model):
    """A customer of one WhatsApp number: their consent to templates."""

    channel = models.ForeignKey("channels.Channel", on_delete=models.CASCADE, related_name="+")
    wa_id = models.CharField(max_length=64)
    # Set when they wrote an opt-out word ("STOP", "afmelden"); cleared when they write again.
    opted_out_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        app_label = "channels"
        constraints = [
            models.UniqueConstraint(fields=["channel", "wa_id"], name="whatsapp_contact_once")
        ]

    def __str__(self) -> str:
        return f"{self.wa_id} on channel {self.channel_id}"

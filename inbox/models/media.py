"""What customers send with their messages (photos, videos, files, locations), as stored.

Kept apart from ``inbox.models`` (which imports this module at its end) because it belongs to
the media area (``inbox.media``). One row per attachment of a message: the platform's address
(to fetch from, once, soon after ingest, since Meta's links expire), what the bytes turned out
to be, and where they are kept in the ``media`` storage.
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

__all__ = ["Attachment", "AttachmentState"]


class AttachmentState(models.TextChoices):
    # Waiting for the fetch task (or not a file at all: a location, a link share).
    PENDING = "pending", _("Loading")
    FETCHING = "fetching", _("Loading")
    STORED = "stored", _("Stored")
    # The platform no longer has it (404/410/expired) or every retry failed: ``reason`` says.
    UNAVAILABLE = "unavailable", _("No longer available")
    # Fetched or tried, and refused by our rules (too large, not a media host, a bomb).
    REFUSED = "refused", _("Refused")
    # Stored once, deleted by the retention setting (``MEDIA_RETENTION_DAYS``).
    DELETED = "deleted", _("Deleted")


class Attachment(models.Model):
    message = models.ForeignKey(
        "inbox.Message", on_delete=models.CASCADE, related_name="attachments", db_index=False
    )
    # Denormalised from the message: the retention sweep and the per-channel storage sum read
    # attachments by channel without joining messages.
    channel = models.ForeignKey(
        "channels.Channel", on_delete=models.CASCADE, related_name="+", db_constraint=False,
        db_index=False,
    )  # fmt: skip
    position = models.PositiveSmallIntegerField(default=0)
    kind = models.CharField(max_length=16)  # channels.base.ATTACHMENT_KINDS
    url = models.TextField(blank=True)  # the platform's address; never shown to a browser
    media_id = models.CharField(max_length=200, blank=True)
    external_id = models.CharField(max_length=200, blank=True)
    declared_type = models.CharField(max_length=120, blank=True)  # what the platform said
    detected_type = models.CharField(max_length=120, blank=True)  # what the bytes are
    name = models.CharField(max_length=255, blank=True)
    size = models.BigIntegerField(null=True, blank=True)
    alt_text = models.TextField(blank=True)
    title = models.TextField(blank=True)
    latitude = models.FloatField(null=True, blank=True)
    longitude = models.FloatField(null=True, blank=True)
    detail = models.JSONField(default=dict, blank=True)
    state = models.CharField(
        max_length=12, choices=AttachmentState.choices, default=AttachmentState.PENDING
    )
    reason = models.TextField(blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    storage_name = models.CharField(max_length=300, blank=True)
    thumbnail_name = models.CharField(max_length=300, blank=True)
    sha256 = models.CharField(max_length=64, blank=True)
    fetched_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            # A re-delivery never stores the same attachment twice.
            models.UniqueConstraint(
                fields=["message", "position"], name="attachment_unique_position"
            ),
        ]
        indexes = [
            # Retention: stored media by age, per channel sums.
            models.Index(
                fields=["channel", "fetched_at"],
                name="attachment_stored_age",
                condition=models.Q(state="stored"),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} #{self.position} of message {self.message_id}"

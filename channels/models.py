from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import models
from django.utils import timezone
from encrypted_fields.fields import EncryptedJSONField

from . import registry
from .base import AuthError, ChannelContext


class HealthState(models.TextChoices):
    OK = "ok", "OK"
    DEGRADED = "degraded", "Degraded"
    RATE_LIMITED = "rate_limited", "Rate limited"
    NEEDS_RECONNECT = "needs_reconnect", "Needs reconnect"
    DISABLED = "disabled", "Disabled"


class Channel(models.Model):
    """A connected platform account (an X account, a Facebook page, a review-site location)."""

    kind = models.CharField(max_length=32, choices=registry.kinds)
    name = models.CharField(max_length=120)
    # Encrypted at rest with a key derived from SECRET_KEY (see docs/security.md). Never rendered
    # back in full: forms show which keys are set, not their values.
    credentials = EncryptedJSONField(default=dict, blank=True)
    settings = models.JSONField(default=dict, blank=True)
    poll_interval = models.PositiveIntegerField(default=60, help_text="Seconds between polls.")
    enabled = models.BooleanField(default=True)
    default_team = models.ForeignKey(
        "inbox.Team", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Our own account on the platform: its messages echoed back are ours, not a customer's.
    own_account_id = models.CharField(max_length=64, blank=True)
    own_handle = models.CharField(max_length=120, blank=True)

    # Where the last stored batch ended (since_id, page tokens, timestamps): connector-specific,
    # written only in the transaction that stores the batch.
    cursor = models.JSONField(default=dict, blank=True)

    # Health, written by channels.health only.
    health_state = models.CharField(
        max_length=20, choices=HealthState.choices, default=HealthState.OK
    )
    last_success_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    last_error_at = models.DateTimeField(null=True, blank=True)
    consecutive_failures = models.PositiveIntegerField(default=0)
    next_poll_at = models.DateTimeField(null=True, blank=True)
    rate_limited_until = models.DateTimeField(null=True, blank=True)
    # A poll holds this lease so two workers never poll one channel at once; it expires by itself
    # if the worker dies.
    poll_lease_until = models.DateTimeField(null=True, blank=True)
    # Per-channel counters (platform calls this month, items ingested, errors) for health pages
    # and budgets: {"month": "2026-11", "reads": 120, "posts": 4, ...}.
    usage = models.JSONField(default=dict, blank=True)
    last_ingest_lag_seconds = models.FloatField(null=True, blank=True)
    # Failed polls per UTC hour over the last 24 hours, {"2026-11-22T21": 3}: the admin's "errors
    # in the last 24 h" (``channels.health.errors_last_24h``). Pruned on every write.
    errors_by_hour = models.JSONField(default=dict, blank=True)

    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    # No columns: ``channels.overview.health_overview`` sets these on the rows it returns, for
    # the health table; other instances do not have them.
    attention: str
    notices: list[str]
    errors_24h: int
    last_poll_at: dt.datetime | None
    lag_seconds: float | None
    usage_counts: list[tuple[str, Any]]

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_kind_display()})"

    def context(self) -> ChannelContext:
        credentials = self.credentials or {}
        if not isinstance(credentials, dict):
            # The field hands back the ciphertext when no known key opens it.
            raise AuthError(
                "Stored credentials cannot be decrypted with the current key (was SECRET_KEY "
                "changed without SECRET_KEY_FALLBACKS?). Enter them again or restore the key."
            )
        return ChannelContext(
            id=self.pk,
            kind=self.kind,
            name=self.name,
            credentials=dict(credentials),
            settings=dict(self.settings or {}),
            own_account_id=self.own_account_id,
            own_handle=self.own_handle,
        )

    def connector(self):
        return registry.connector_class(self.kind)(self.context())

    @property
    def connector_class(self):
        return registry.connector_class(self.kind)

    @property
    def platform(self) -> str:
        """Identities are shared per platform: an X user is the same on two X channels."""
        return self.connector_class.platform or self.kind


class DeliveryState(models.TextChoices):
    RECEIVED = "received", "Waiting"
    PROCESSED = "processed", "Processed"
    FAILED = "failed", "Failed"


class WebhookDelivery(models.Model):
    """One verified webhook body, stored before the platform gets its 200 (``channels.intake``).

    The row is the delivery's only durable copy: a task parses and ingests it, and it becomes
    *processed* only after that ingest committed. Until then it is *received*, and the sweep
    hands it to a worker again whenever ``next_attempt_at`` has passed (a lost task, a killed
    worker, a failed attempt's backoff). After ``WEBHOOK_MAX_ATTEMPTS`` it is *failed* and waits
    for an admin. ``(kind, sha256)`` is unique: a platform's redelivery of the same bytes is
    answered 200 and not stored twice.
    """

    # The intake's name (one per platform app: "x", "facebook"), not the channel kind: Meta
    # posts one body to whichever of its URLs is configured, and it is one delivery.
    kind = models.CharField(max_length=32)
    sha256 = models.CharField(max_length=64)
    body = models.BinaryField()
    # The channels the delivery is for, as far as receipt could tell (empty when unknown).
    channels = models.ManyToManyField(Channel, blank=True, related_name="webhook_deliveries")
    state = models.CharField(
        max_length=12, choices=DeliveryState.choices, default=DeliveryState.RECEIVED
    )
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    # When a worker may (next) take it. While an attempt runs this is its lease's end, so a
    # killed worker's delivery is picked up again by the sweep once the lease is over.
    next_attempt_at = models.DateTimeField(default=timezone.now)
    received_at = models.DateTimeField(default=timezone.now)
    processed_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-received_at"]
        constraints = [
            models.UniqueConstraint(fields=["kind", "sha256"], name="webhook_delivery_once")
        ]
        indexes = [models.Index(fields=["state", "next_attempt_at"], name="webhook_due")]

    def __str__(self) -> str:
        return f"{self.kind} delivery {self.sha256[:12]} ({self.state})"


# WhatsApp's own tables belong to this app (templates, statuses, opt-outs).
from .whatsapp.models import (  # noqa: E402, F401
    WhatsAppContact,
    WhatsAppMessageStatus,
    WhatsAppTemplate,
)

"""The API's rows: per-user tokens, outbound webhook subscriptions, their outbox and deliveries."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone


class TokenScope(models.TextChoices):
    READ = "read", "read"
    WRITE = "write", "read-write"


class ApiToken(models.Model):
    """A personal API token. Only the SHA-256 of the token is stored: the token is 32 random
    bytes (256 bits), so a fast hash is enough (a slow password hash protects guessable
    secrets; nobody can guess 256 bits) and a look-up is one indexed equality."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens"
    )
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=12)  # shown in lists, so a user can tell tokens apart
    digest = models.CharField(max_length=64, unique=True)
    scope = models.CharField(max_length=8, choices=TokenScope.choices, default=TokenScope.READ)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"


class WebhookEvent(models.TextChoices):
    TICKET_CREATED = "ticket.created", "ticket created"
    MESSAGE_RECEIVED = "message.received", "message received"
    REPLY_SENT = "reply.sent", "reply sent"
    REPLY_FAILED = "reply.failed", "reply failed"
    TICKET_ASSIGNED = "ticket.assigned", "ticket assigned"
    TICKET_CLOSED = "ticket.closed", "ticket closed"
    SLA_BREACHED = "sla.breached", "SLA breached"
    INCIDENT_RESOLVED = "incident.resolved", "incident resolved"


class WebhookSubscription(models.Model):
    url = models.URLField(max_length=1000)
    events = models.JSONField(default=list)
    secret = models.CharField(max_length=64)
    enabled = models.BooleanField(default=True)
    # Failed attempts in a row; reset by any success. At the limit the subscription is disabled.
    failures = models.PositiveIntegerField(default=0)
    disabled_reason = models.CharField(max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return self.url


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", "pending"
    DELIVERED = "delivered", "delivered"
    DEAD = "dead", "gave up"


class OutboundDelivery(models.Model):
    """The outbox: one row per (event, subscription), written in the transaction of the change
    that caused the event, so a change that commits always has its deliveries and a change that
    rolls back has none. Delivered in id order per (subscription, ticket)."""

    subscription = models.ForeignKey(
        WebhookSubscription, on_delete=models.CASCADE, related_name="deliveries"
    )
    event = models.CharField(max_length=32)
    ticket_id = models.BigIntegerField(null=True, blank=True)
    body = models.TextField()  # the exact JSON sent (and signed), fixed at the change
    status = models.CharField(
        max_length=12, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    response_code = models.PositiveIntegerField(null=True, blank=True)
    duration_ms = models.PositiveIntegerField(null=True, blank=True)
    error = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["status", "next_attempt_at", "id"], name="outbound_delivery_due"),
            models.Index(
                fields=["subscription", "ticket_id", "id"], name="outbound_delivery_order"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.event} #{self.pk}"

"""Customers and their identities on each platform."""

from __future__ import annotations

from django.db import models
from django.utils import timezone


class Customer(models.Model):
    """A person, seen through one or more platform identities.

    Linking two customers as the same person sets ``merged_into``; undoing it clears it. Tickets
    keep pointing at the customer they came in under, so an undo restores everything exactly.
    """

    display_name = models.CharField(max_length=200, blank=True)
    merged_into = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="merged"
    )
    vip = models.BooleanField(default=False)
    note = models.TextField(blank=True)
    # Free key-value facts from the business (a CRM pushes them through the API): shown escaped.
    attributes = models.JSONField(default=dict, db_default={}, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return self.display_name or f"customer {self.pk}"


class Identity(models.Model):
    """A platform account (X user, Facebook user, reviewer)."""

    platform = models.CharField(max_length=32)
    platform_user_id = models.CharField(max_length=128)
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="identities")
    handle = models.CharField(max_length=200, blank=True)
    display_name = models.CharField(max_length=200, blank=True)
    avatar_url = models.URLField(max_length=1000, blank=True)
    profile_url = models.URLField(max_length=1000, blank=True)
    followers = models.PositiveIntegerField(null=True, blank=True)
    verified = models.BooleanField(default=False)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name_plural = "identities"
        constraints = [
            models.UniqueConstraint(
                fields=["platform", "platform_user_id"], name="identity_unique_per_platform"
            )
        ]

    def __str__(self) -> str:
        return f"{self.platform}:{self.handle or self.platform_user_id}"

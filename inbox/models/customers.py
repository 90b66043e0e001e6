"""Customers and their identities on each platform."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
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
    # How the person is reached outside any one platform, normalised so that equal means the
    # same (``inbox.customers.contact``): the phone number in E.164 ("+31612345678"), the e-mail
    # address in lower case. Ingest links a new identity to the customer with the same one.
    phone = models.CharField(max_length=20, blank=True, default="", db_default="")
    email = models.EmailField(max_length=254, blank=True, default="", db_default="")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [
            models.Index(fields=["phone"], condition=~Q(phone=""), name="customer_phone"),
            models.Index(fields=["email"], condition=~Q(email=""), name="customer_email"),
        ]

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

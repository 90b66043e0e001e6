"""Teams, the agents' profiles and their shifts."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Team(models.Model):
    name = models.CharField(max_length=100, unique=True)
    members = models.ManyToManyField(settings.AUTH_USER_MODEL, related_name="teams", blank=True)
    # "manual" or "auto" (fair assignment to the available agent with the fewest open tickets).
    assignment = models.CharField(max_length=10, default="manual")
    time_zone = models.CharField(max_length=64, default="Europe/Amsterdam")

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class AgentProfile(models.Model):
    """What an agent's answers and screen need beyond the auth user."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="profile"
    )
    signature = models.CharField(
        max_length=200, blank=True, help_text=_("Added under every reply, e.g. '^Anna'.")
    )
    language = models.CharField(max_length=8, default="en")
    time_zone = models.CharField(max_length=64, default="Europe/Amsterdam")
    capacity = models.PositiveIntegerField(default=10)
    available = models.BooleanField(default=True)
    last_seen_at = models.DateTimeField(null=True, blank=True)
    # Replies of this agent wait for a lead's approval (four-eyes review for trainees).
    needs_approval = models.BooleanField(default=False)
    # A short chime when the inbox list shows tickets that arrived while it was open.
    arrival_sound = models.BooleanField(
        _("Play a sound for new tickets"),
        default=False,
        help_text=_("A short chime when new tickets arrive in the list you have open."),
    )

    def __str__(self) -> str:
        return f"profile of {self.user}"


class Shift(models.Model):
    """When an agent works, in their own time zone (``AgentProfile.time_zone``).

    An agent without any shift is on shift whenever they are available; with shifts, automatic
    assignment gives them tickets only within one.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="shifts"
    )
    weekday = models.PositiveSmallIntegerField(help_text="0 = Monday … 6 = Sunday")
    start = models.TimeField()
    end = models.TimeField(help_text="Before the start: the shift runs past midnight.")

    class Meta:
        ordering = ["user_id", "weekday", "start"]

    def __str__(self) -> str:
        return f"{self.user} day {self.weekday} {self.start:%H:%M}–{self.end:%H:%M}"

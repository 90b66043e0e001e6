"""What the team-lead engines read: intent corrections, business hours, holidays, SLA
targets, auto-acks, the engine configuration stamp and routing rules."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone


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


def default_week() -> dict[str, list[list[str]]]:
    """Monday to Friday, 08:00–18:00: the opening hours of a new calendar."""
    return {day: [["08:00", "18:00"]] for day in ("mon", "tue", "wed", "thu", "fri")}


class BusinessHours(models.Model):
    """A team's opening hours: weekly hours in a time zone, minus holidays.

    ``week`` maps "mon".."sun" to a list of ["HH:MM", "HH:MM"] intervals in local time ("24:00"
    closes at midnight). The row without a team is the default for teams without their own.
    """

    team = models.OneToOneField(
        "inbox.Team", null=True, blank=True, on_delete=models.CASCADE, related_name="hours"
    )
    name = models.CharField(max_length=100, blank=True)
    # Blank: the team's time zone, else the site's (settings.TIME_ZONE).
    time_zone = models.CharField(max_length=64, blank=True)
    week = models.JSONField(default=default_week, blank=True)

    class Meta:
        verbose_name_plural = "business hours"
        # Several rows without a team: the oldest is the default (inbox.engines.sla.calendars_for).

    def __str__(self) -> str:
        return self.name or (f"hours of {self.team}" if self.team_id else "default hours")


class Holiday(models.Model):
    hours = models.ForeignKey(BusinessHours, on_delete=models.CASCADE, related_name="holidays")
    date = models.DateField()
    name = models.CharField(max_length=100, blank=True)

    class Meta:
        ordering = ["date"]
        constraints = [
            models.UniqueConstraint(fields=["hours", "date"], name="holiday_once_per_date")
        ]

    def __str__(self) -> str:
        return f"{self.date} {self.name}"


class SlaTarget(models.Model):
    """How fast we answer: first response and each next response, per channel and priority.

    The most specific target applies: one for the ticket's channel over one for any channel,
    then the highest ``min_priority`` the ticket reaches. Without any row: 60 minutes of
    business time for both (``inbox.engines.sla.DEFAULT_TARGET``).
    """

    channel = models.ForeignKey(
        "channels.Channel", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    min_priority = models.SmallIntegerField(default=0)
    first_response_minutes = models.PositiveIntegerField(default=60)
    next_response_minutes = models.PositiveIntegerField(default=60)
    # Count only business hours (the usual) or the clock (e.g. a 24/7 channel).
    business_time = models.BooleanField(default=True)

    class Meta:
        ordering = ["channel_id", "-min_priority"]

    def __str__(self) -> str:
        where = f"channel {self.channel_id}" if self.channel_id else "any channel"
        return f"{where}, priority ≥ {self.min_priority}: {self.first_response_minutes} min"


class AutoAck(models.Model):
    """The acknowledgement sent outside business hours, per channel and language.

    ``text`` may hold ``{opening_time}`` ("8:00"), ``{opening_day}`` ("maandag") and
    ``{opening}`` ("maandag 8:00"). A row without channel applies to every channel whose
    connector has ``auto_ack_default``; a review site gets one only through a row for that
    channel with ``enabled`` set. A blank language matches any language.
    """

    channel = models.ForeignKey(
        "channels.Channel", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    language = models.CharField(max_length=8, blank=True)
    text = models.TextField()
    enabled = models.BooleanField(default=True)

    class Meta:
        # Several rows for one channel and language: the oldest wins
        # (inbox.engines.sla.auto_ack_pick).
        ordering = ["pk"]

    def __str__(self) -> str:
        return f"auto-ack {self.channel_id or 'any'} {self.language or '*'}"


class EngineConfigStamp(models.Model):
    """One row whose ``token`` changes with every change to what the engines read at ingest
    (rules, business hours, holidays, SLA targets, acknowledgement texts, and the teams, tags,
    users and incidents
    rules name). Ingest workers keep that configuration in memory and reload it when the token
    differs from the one they loaded it under (``inbox.engines.engine_config``). In the database,
    not in
    the cache: it changes inside the editing transaction, so it is rolled back with it and
    other workers see the new token exactly when they can see the new rows.
    """

    token = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"engine configuration {self.token}"


class CloseReason(models.TextChoices):
    NONE = "", "—"
    SPAM = "spam", "Spam"
    NO_REPLY_NEEDED = "no_reply_needed", "No reply needed"


class Rule(models.Model):
    """A routing rule, evaluated at ingest on every new ticket, in ``position`` order.

    Conditions that are set must all hold (keywords: any one of them). Actions that are set are
    all applied; ``stop_processing`` ends the evaluation after this rule matched. What a rule did
    is written to ``Ticket.routing_trace``.
    """

    name = models.CharField(max_length=120)
    position = models.PositiveIntegerField(default=0)
    enabled = models.BooleanField(default=True)
    stop_processing = models.BooleanField(default=False)

    # Conditions.
    channel = models.ForeignKey(
        "channels.Channel", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    kinds = models.JSONField(default=list, blank=True)  # TicketKind values; empty: any
    keywords = models.TextField(
        blank=True, help_text="One per line or comma-separated; any of them matches."
    )
    languages = models.JSONField(default=list, blank=True)
    min_rating = models.PositiveSmallIntegerField(null=True, blank=True)
    max_rating = models.PositiveSmallIntegerField(null=True, blank=True)
    min_followers = models.PositiveIntegerField(null=True, blank=True)
    verified = models.BooleanField(null=True, blank=True)  # None: either
    intents = models.JSONField(default=list, blank=True)

    # Actions.
    set_team = models.ForeignKey(
        "inbox.Team", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    add_tags = models.ManyToManyField("inbox.Tag", blank=True, related_name="+")
    priority_points = models.SmallIntegerField(null=True, blank=True)
    assign_to = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    close_reason = models.CharField(
        max_length=20, choices=CloseReason.choices, blank=True, default=""
    )
    link_incident = models.ForeignKey(
        "inbox.Incident", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["position", "pk"]
        indexes = [models.Index(fields=["enabled", "position"], name="rule_enabled_order")]

    def __str__(self) -> str:
        return self.name

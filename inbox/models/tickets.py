"""Tickets and their messages: the one model every channel shares.

State changes go through the services of ``inbox.tickets`` and ``inbox.replies`` (and
``inbox.ingest.services`` for inbound items); nothing here has behaviour in ``save()``."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from inbox.models.customers import Customer, Identity
from inbox.models.people import Team


class Tag(models.Model):
    name = models.CharField(max_length=60, unique=True)
    color = models.CharField(max_length=7, default="#64748b")

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class TicketKind(models.TextChoices):
    MENTION = "mention", _("Mention")
    REPLY = "reply", _("Reply")
    DM = "dm", _("Direct message")
    COMMENT = "comment", _("Comment")
    POST = "post", _("Visitor post")
    REVIEW = "review", _("Review")
    LISTENING = "listening", _("Listening")


class TicketStatus(models.TextChoices):
    NEW = "new", _("New")
    OPEN = "open", _("Open")
    PENDING = "pending", _("Pending")
    CLOSED = "closed", _("Closed")


class Intent(models.TextChoices):
    COMPLAINT = "complaint", _("Complaint")
    QUESTION = "question", _("Question")
    COMPLIMENT = "compliment", _("Compliment")
    OTHER = "other", _("Other")


OPEN_STATUSES = (TicketStatus.NEW, TicketStatus.OPEN)


class Ticket(models.Model):
    """A thread on one channel: a conversation, a DM thread, a comment thread, a review."""

    # channel, customer, assignee and team get no index of their own: each leads a composite
    # index below (thread key, customer's recent, assignee's and team's views) that serves the
    # same lookups, and every index costs on each ticket written or updated at ingest.
    channel = models.ForeignKey(
        "channels.Channel", on_delete=models.PROTECT, related_name="tickets", db_index=False
    )
    kind = models.CharField(max_length=16, choices=TicketKind.choices)
    thread_key = models.CharField(max_length=200)
    customer = models.ForeignKey(
        Customer,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="tickets",
        db_index=False,
    )
    identity = models.ForeignKey(
        Identity, null=True, blank=True, on_delete=models.SET_NULL, related_name="tickets"
    )
    status = models.CharField(max_length=10, choices=TicketStatus.choices, default=TicketStatus.NEW)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="assigned_tickets",
        db_index=False,
    )
    team = models.ForeignKey(
        Team,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="tickets",
        db_index=False,
    )
    tags = models.ManyToManyField(Tag, blank=True, related_name="tickets")
    priority = models.SmallIntegerField(default=0)  # higher is more urgent
    # What ``priority`` is made of, as [[reason, points], ...] (inbox.engines.priority), for the UI.
    priority_parts = models.JSONField(default=list, blank=True)
    intent = models.CharField(max_length=12, choices=Intent.choices, blank=True)
    intent_corrected = models.BooleanField(default=False)
    sentiment = models.FloatField(null=True, blank=True)  # -1 (angry) .. 1 (happy)
    language = models.CharField(max_length=8, blank=True)
    rating = models.PositiveSmallIntegerField(null=True, blank=True)  # latest review stars

    subject = models.CharField(max_length=200, blank=True)
    last_message_preview = models.CharField(max_length=200, blank=True)
    # Attachments of the ticket's messages (photos, files, locations), kept by ingest: the list
    # shows a paperclip with this count without a query per row.
    attachment_count = models.PositiveIntegerField(default=0, db_default=0)
    platform_url = models.URLField(max_length=1000, blank=True)

    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    first_inbound_at = models.DateTimeField(null=True, blank=True)
    last_inbound_at = models.DateTimeField(null=True, blank=True)
    first_response_at = models.DateTimeField(null=True, blank=True)
    last_response_at = models.DateTimeField(null=True, blank=True)
    # Since when the customer waits for us: the first inbound after our last reply, cleared when
    # we answer. The inbox's default order is "longest waiting first".
    waiting_since = models.DateTimeField(null=True, blank=True)
    due_at = models.DateTimeField(null=True, blank=True)  # SLA: when the next answer is due
    # SLA: when the first answer was due; kept after the answer, for attainment reports.
    first_response_due_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    close_reason = models.CharField(max_length=32, blank=True)
    # Business time (the team's calendar) from the first customer message to our first answer
    # and to closing, stored when those happen (inbox.tickets.timing.business_durations_set), so
    # reports
    # aggregate them like the clock times instead of walking a calendar per row.
    first_response_business_seconds = models.PositiveIntegerField(null=True, blank=True)
    resolution_business_seconds = models.PositiveIntegerField(null=True, blank=True)
    snoozed_until = models.DateTimeField(null=True, blank=True)
    # Raised by every change an open inbox must show; live views poll for "anything newer".
    version = models.PositiveIntegerField(default=1)
    # Which routing rules touched this ticket ("why is this here?"), filled at ingest.
    routing_trace = models.JSONField(default=list, blank=True)

    # No column: the ticket list sets it on the rows it shows (who else has each ticket open,
    # ``inbox.tickets.presence``); other instances do not have it.
    viewers: list[dict[str, Any]]

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["channel", "thread_key"], name="ticket_thread_unique")
        ]
        indexes = [
            # Inbox views "all open", "pending", "closed", ordered longest-waiting first, keyset
            # paginated on (waiting_since, id).
            models.Index(fields=["status", "waiting_since", "id"], name="ticket_status_wait"),
            # "Mine": an agent's own tickets by status, longest-waiting first.
            models.Index(
                fields=["assignee", "status", "waiting_since", "id"], name="ticket_assignee_wait"
            ),
            # An agent sees the teams they belong to: team views by status.
            models.Index(fields=["team", "status", "waiting_since", "id"], name="ticket_team_wait"),
            # "Unassigned" among open tickets.
            models.Index(
                fields=["status", "waiting_since", "id"],
                condition=Q(assignee__isnull=True),
                name="ticket_unassigned_wait",
            ),
            # "All open" and "unassigned" span two statuses (new, open): an index on the order
            # alone, limited to open tickets, serves the first page and every keyset page
            # without sorting (see docs/benchmarks.md, section Inbox).
            models.Index(
                fields=["waiting_since", "id"],
                condition=Q(status__in=["new", "open"]),
                name="ticket_open_order",
            ),
            models.Index(
                fields=["waiting_since", "id"],
                condition=Q(status__in=["new", "open"], assignee__isnull=True),
                name="ticket_open_unassigned_order",
            ),
            # Open views filtered by channel, in waiting order: a quiet channel's few tickets
            # are otherwise found by walking a busy team's whole queue (170 ms for a probe
            # channel among 50,000 open tickets under load, docs/reliability.md).
            models.Index(
                fields=["channel", "waiting_since", "id"],
                condition=Q(status__in=["new", "open"]),
                name="ticket_channel_open_order",
            ),
            # The compliments view, per team, in waiting order: praise is a small part of a
            # queue, and without it a team's whole open queue was walked to find it.
            models.Index(
                fields=["team", "waiting_since", "id"],
                condition=Q(status__in=["new", "open"], intent="compliment"),
                name="ticket_team_praise_order",
            ),
            # An agent's open views, one team (or no team) at a time, in waiting order
            # (inbox.tickets.selectors.visibility_branches).
            models.Index(
                fields=["team", "waiting_since", "id"],
                condition=Q(status__in=["new", "open"]),
                name="ticket_team_open_order",
            ),
            # "Due first" and "At risk": open tickets soonest due first (nulls last, as a btree
            # stores them), keyset paginated on (due_at, id); per team for an agent's list.
            models.Index(
                fields=["due_at", "id"],
                condition=Q(status__in=["new", "open"]),
                name="ticket_open_due_order",
            ),
            models.Index(
                fields=["team", "due_at", "id"],
                condition=Q(status__in=["new", "open"]),
                name="ticket_team_open_due_order",
            ),
            # The customer's other tickets beside a thread.
            models.Index(fields=["customer", "updated_at"], name="ticket_customer_recent"),
            # Live updates: "anything changed since T?" and SLA breach scans.
            models.Index(fields=["updated_at"], name="ticket_updated"),
            models.Index(fields=["due_at"], name="ticket_due"),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.get_kind_display()} on {self.channel_id}"


class Direction(models.TextChoices):
    INBOUND = "in", _("Inbound")
    OUTBOUND = "out", _("Outbound")
    NOTE = "note", _("Internal note")


class DeliveryState(models.TextChoices):
    NONE = "", "—"
    AWAITING_APPROVAL = "awaiting_approval", _("Awaiting approval")
    # A lead sent it back with a comment (``Message.review_note``); its author edits and
    # resubmits it, or discards it. Never sent from this state.
    RETURNED = "returned", _("Returned")
    QUEUED = "queued", _("Queued")
    SENDING = "sending", _("Sending")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")


def in_language(default: str, translations: dict | None, language: str) -> str:
    """The text for a customer writing ``language``: its translation when there is one (by
    primary subtag, so "nl-BE" takes the "nl" text), else ``default``."""
    text = (translations or {}).get(primary_language(language or ""), "")
    return text if isinstance(text, str) and text.strip() else default


def primary_language(code: str) -> str:
    """A platform's language code as its primary subtag: "nl-BE" -> "nl", "EN" -> "en"."""
    return code.split("-", 1)[0].split("_", 1)[0].strip().lower()[:8]


class Message(models.Model):
    # Both foreign keys are served by the composite indexes below (thread order, unique platform
    # id), so they get no index of their own: every index costs on each of thousands of inserts.
    ticket = models.ForeignKey(
        Ticket, on_delete=models.CASCADE, related_name="messages", db_index=False
    )
    # Denormalised from the ticket so the platform id is unique per channel in one index. No
    # database constraint: it always equals the ticket's channel, whose own constraint keeps it
    # existing, and checking it again costs one lookup per message at commit.
    channel = models.ForeignKey(
        "channels.Channel",
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )
    direction = models.CharField(max_length=4, choices=Direction.choices)
    external_id = models.CharField(max_length=200, null=True, blank=True)
    author_identity = models.ForeignKey(
        Identity, null=True, blank=True, on_delete=models.SET_NULL, related_name="messages"
    )
    # Set on agents' replies only: indexed by ``message_author_user`` below, which skips the
    # NULLs of every inbound message.
    author_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="messages",
        db_index=False,
    )
    text = models.TextField(blank=True)
    sent_at = models.DateTimeField(default=timezone.now)  # the platform's timestamp
    created_at = models.DateTimeField(default=timezone.now)
    raw = models.JSONField(default=dict, blank=True)
    rating = models.PositiveSmallIntegerField(null=True, blank=True)
    url = models.URLField(max_length=1000, blank=True)
    parent_external_id = models.CharField(max_length=200, blank=True)
    edited_at = models.DateTimeField(null=True, blank=True)
    # Every version of an edited message, oldest first, the last one being ``text``:
    # [{"version": platform version id or "", "text": ..., "at": ISO time}]. Empty until the
    # message is edited (``inbox.ingest.services`` fills it; see ``InboundItem.version``). The
    # database
    # default serves rows written by plain SQL (bench, tests), which name no such column.
    versions = models.JSONField(default=list, db_default=[], blank=True)
    hidden = models.BooleanField(default=False)  # hidden on the platform (abusive comment)
    # When the customer took the message back on the platform (an unsent Messenger message).
    # The text stays for the record; the thread says it was removed by the customer.
    removed_by_author_at = models.DateTimeField(null=True, blank=True)
    # The text's language as the platform says it, as its primary subtag ("nl", "en"; "" when
    # unknown). The full-text index stems the text in that language only, and in both Dutch and
    # English when it is neither (inbox.tickets.selectors.SEARCH_DOCUMENT).
    language = models.CharField(max_length=8, blank=True, default="")
    # How many attachments the message has (``inbox.models.media.Attachment``), written with
    # them at ingest: the list's paperclip reads it without a query per row.
    attachment_count = models.PositiveSmallIntegerField(default=0, db_default=0)

    # Outbound only.
    reply_mode = models.CharField(max_length=10, blank=True)  # public / dm
    delivery_state = models.CharField(
        max_length=20, choices=DeliveryState.choices, blank=True, default=""
    )
    failure_reason = models.TextField(blank=True)
    # When delivery_state last changed: the sweep for stalled replies reads it.
    delivery_changed_at = models.DateTimeField(null=True, blank=True)
    # Unique where set (outbound only), by ``message_idempotency_key_unique`` below: a partial
    # index that inbound messages do not enter.
    idempotency_key = models.CharField(max_length=64, null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    send_options = models.JSONField(default=dict, blank=True)
    # Four-eyes review (inbox.replies.review): the lead's comment on a returned reply, and whether
    # the
    # author chose "Reply and close" (the ticket closes when the reply is approved, not before).
    review_note = models.TextField(blank=True)
    close_on_approval = models.BooleanField(default=False)

    class Meta:
        constraints = [
            # Dedupe is the database's job: the same platform message is stored once per channel,
            # whoever delivers it (poll, webhook, two workers at once).
            models.UniqueConstraint(
                fields=["channel", "external_id"], name="message_unique_per_channel"
            ),
            models.UniqueConstraint(
                fields=["idempotency_key"],
                condition=Q(idempotency_key__isnull=False),
                name="message_idempotency_key_unique",
            ),
        ]
        indexes = [
            # The thread view: a ticket's messages in order.
            models.Index(fields=["ticket", "sent_at", "id"], name="message_thread_order"),
            # Send queue scans and delivery retries.
            models.Index(
                fields=["delivery_state", "created_at"],
                condition=Q(direction="out"),
                name="message_outbound_state",
            ),
            # A user's messages (and SET NULL when a user is deleted); inbound rows stay out.
            models.Index(
                fields=["author_user"],
                condition=Q(author_user__isnull=False),
                name="message_author_user",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_direction_display()} {self.external_id or self.pk}"

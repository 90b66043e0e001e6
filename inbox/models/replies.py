"""Canned replies and coaching reviews of closed threads."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from inbox.models.people import Team


class CannedReply(models.Model):
    """A saved answer agents insert from the composer.

    ``body`` may hold ``{customer_name}`` and ``{agent_first_name}``; they are filled in when the
    reply is inserted. Without a team the reply is shared with everyone.
    """

    title = models.CharField(max_length=120)
    body = models.TextField()
    # The body in other languages by primary subtag ({"nl": "..."}): the composer inserts the
    # one in the customer's language, ``body`` when there is none.
    translations = models.JSONField(default=dict, blank=True)
    team = models.ForeignKey(
        Team, null=True, blank=True, on_delete=models.CASCADE, related_name="canned_replies"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["title"]
        verbose_name_plural = "canned replies"

    def __str__(self) -> str:
        return self.title


class ThreadReview(models.Model):
    """A lead's coaching review of a closed thread: a score and a note for the agent."""

    ticket = models.ForeignKey(
        "inbox.Ticket", on_delete=models.CASCADE, related_name="thread_reviews"
    )
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Served by ``thread_review_agent_time``.
    agent = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="thread_reviews",
        db_index=False,
    )
    score = models.PositiveSmallIntegerField()  # 1 (poor) .. 5 (excellent)
    note = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(score__gte=1, score__lte=5), name="thread_review_score_1_5"
            )
        ]
        indexes = [
            # An agent's "My coaching", newest first.
            models.Index(fields=["agent", "created_at"], name="thread_review_agent_time"),
        ]

    def __str__(self) -> str:
        return f"review of #{self.ticket_id}: {self.score}"


class PrivateReply(models.Model):
    """The one private reply ("move to DM") Meta allows per comment, claimed when the reply is
    queued (or held for approval), in the reply's own transaction.

    The unique constraint is what makes it once: two agents (or one double click) racing for the
    same comment get one row, the other an IntegrityError. A reply the platform refused for good
    gives its claim back (``inbox.replies.delivery``); one whose outcome is
    unknown keeps it, so it is never sent a second time.
    """

    channel = models.ForeignKey("channels.Channel", on_delete=models.CASCADE, related_name="+")
    # The platform id of the comment answered privately.
    comment_id = models.CharField(max_length=255)
    message = models.OneToOneField(
        "inbox.Message", on_delete=models.CASCADE, related_name="private_claim"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["channel", "comment_id"], name="private_reply_once_per_comment"
            )
        ]

    def __str__(self) -> str:
        return f"private reply to {self.comment_id}"

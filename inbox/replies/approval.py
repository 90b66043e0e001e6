"""Who must wait for a lead's approval before a reply is sent (the four-eyes rule).

Asked by the reply services when an agent sends and by the inbox screen to label its send
button; the review of held replies is ``inbox.replies.review``.
"""

from __future__ import annotations

from django.contrib.auth.models import User

from inbox.core.access import can_assign
from inbox.models import AgentProfile

#: The values of a channel's ``settings["approval"]``.
APPROVAL_NONE = ""
APPROVAL_PUBLIC = "public"
APPROVAL_ALL = "all"
APPROVAL_CHOICES = (APPROVAL_NONE, APPROVAL_PUBLIC, APPROVAL_ALL)


def channel_approval(channel) -> str:
    value = (channel.settings or {}).get("approval", APPROVAL_NONE)
    return value if value in APPROVAL_CHOICES else APPROVAL_NONE


def reply_needs_approval(
    *, user: User, channel, mode: str, profile: AgentProfile | None = None
) -> bool:
    """Whether a reply by ``user`` on ``channel`` in ``mode`` waits for a lead.

    ``profile`` saves a query when the caller has it already.
    """
    if mode == "note" or can_assign(user):
        return False
    policy = channel_approval(channel)
    if policy == APPROVAL_ALL or (policy == APPROVAL_PUBLIC and mode == "public"):
        return True
    if profile is None:
        profile = AgentProfile.objects.filter(user=user).first()
    return bool(profile and profile.needs_approval)

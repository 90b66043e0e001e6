"""Graph objects and webhook events → InboundItem: one normaliser for polls and webhooks.

Pure functions, no network and no ORM, so a comment delivered by webhook and the same comment
found by a poll become the same item: the same ``external_id`` (the Graph id), the same
``thread_key``. The database then stores it once.

Threads (see docs/channels/facebook.md):

- ``comment:<top-level comment id>``: a comment on a Page post and all replies to it. Facebook
  nests comments one level deep: a reply's ``parent`` is the top-level comment, and a top-level
  comment's webhook ``parent_id`` is the post itself.
- ``post:<post id>``: a visitor post on the Page (comments under it thread by the rules above).
- ``dm:<PSID>``: a Messenger conversation, keyed by the customer's page-scoped id, because
  messaging webhooks carry the sender's PSID and no conversation id.
- ``rating:<open graph story id>``: a Page recommendation (polled up to Graph v21.0; the
  ``ratings`` webhook field delivers them on any version).

Besides items, a webhook entry may carry changes to stored messages (:class:`Moderation`: hidden,
removed, unsent) and notices about the Page itself (:class:`PolicyNotice`, Meta blocking or
warning the Page's messaging). :func:`entry_results` sorts one entry into those.

The normalisers are by payload family: the Page feed in ``normalize_feed``, Messenger in
``normalize_messenger``, the pieces both use in ``normalize_parts``; this module is where
callers find them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from channels.payload import child_text

from ..base import InboundItem, Moderation
from .normalize_feed import (
    comment_item,
    feed_change,
    mention_change,
    post_permalink,
    rating_change,
    rating_item,
    visitor_post_item,
)
from .normalize_messenger import (
    conversation_message_item,
    conversation_psid,
    message_edit_item,
    messaging_event,
)
from .normalize_parts import (
    REPLY_PART_METADATA,
    _text,
    comment_thread,
    dm_thread,
)

# The normalisers by payload family, for the pollers, the webhook and the tests.
__all__ = [
    "REPLY_PART_METADATA",
    "EntryResults",
    "Moderation",
    "PolicyNotice",
    "comment_item",
    "comment_thread",
    "conversation_message_item",
    "conversation_psid",
    "dm_thread",
    "entry_results",
    "feed_change",
    "mention_change",
    "message_edit_item",
    "messaging_event",
    "policy_notice",
    "post_permalink",
    "rating_change",
    "rating_item",
    "visitor_post_item",
]


@dataclass(frozen=True, slots=True)
class PolicyNotice:
    """Meta took (or lifted) a policy enforcement action on the Page's messaging:
    ``action`` is "block", "warning" or "unblock"; ``reason`` is Meta's own text."""

    action: str
    reason: str = ""


@dataclass(slots=True)
class EntryResults:
    """What one webhook entry holds, by where it goes: the Page feed channels ("facebook") or
    the Messenger channels, and notices about the Page's messaging."""

    feed: list[InboundItem | Moderation] = field(default_factory=list)
    messaging: list[InboundItem | Moderation] = field(default_factory=list)
    policy: list[PolicyNotice] = field(default_factory=list)


def policy_notice(value: Any) -> PolicyNotice | None:
    """A ``messaging_policy_enforcement`` event: ``policy_enforcement: {action, reason}``."""
    if not isinstance(value, dict):
        return None
    enforcement = value.get("policy_enforcement")
    if not isinstance(enforcement, dict) or not _text(enforcement.get("action")):
        return None
    return PolicyNotice(
        action=_text(enforcement["action"]).lower(), reason=_text(enforcement.get("reason"))
    )


def entry_results(entry: dict[str, Any], *, page_id: str) -> EntryResults:
    """Sort one webhook entry (``object: "page"``) into what the channels of the Page store.

    ``changes[]``: ``feed``, ``mention`` and ``ratings`` go to the Page feed channels; a
    ``messaging_policy_enforcement`` change is a notice. ``messaging[]`` and ``standby[]``
    (the events of a conversation another app controls, handover protocol: the same shape,
    still this Page's customers) go to the Messenger channels; an event carrying
    ``policy_enforcement`` is a notice.
    """
    results = EntryResults()
    entry_time = entry.get("time")
    normalisers = {"feed": feed_change, "mention": mention_change, "ratings": rating_change}
    for change in entry.get("changes") or []:
        if not isinstance(change, dict):
            continue
        name = child_text(change, "field")
        if name == "messaging_policy_enforcement":
            notice = policy_notice(change.get("value"))
            if notice is not None:
                results.policy.append(notice)
            continue
        normaliser = normalisers.get(name)
        if normaliser is None:
            continue
        found = normaliser(change.get("value"), page_id=page_id, entry_time=entry_time)
        if found is not None:
            results.feed.append(found)
    for event in [*(entry.get("messaging") or []), *(entry.get("standby") or [])]:
        notice = policy_notice(event)
        if notice is not None:
            results.policy.append(notice)
            continue
        found = messaging_event(event, page_id=page_id)
        if found is not None:
            results.messaging.append(found)
    return results

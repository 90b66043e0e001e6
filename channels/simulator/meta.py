"""Simulated Facebook Page comments and Messenger conversations for the demo: Page webhook
entries in the shape Meta documents, sorted by the real ``channels.facebook.normalize``.

Comments can be hidden (the simulated Page accepts it); Messenger keeps its real 24-hour reply
window, so older demo conversations show why a reply is no longer possible.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

from ..base import InboundAuthor, InboundItem
from ..facebook import normalize as fb_normalize
from ..facebook.connector import FacebookPageConnector, MessengerConnector
from ..registry import register
from . import corpus
from .platforms import SimulatedPlatform

PAGE_ID = "100000000000777"
POSTS = 4  # the Page's recent posts the simulated comments are under
# Messenger's "thumbs up" sticker id, as Meta documents it in the attachment payload.
STICKER_ID = 369239263222822
STICKER_SHARE = 0.08
LOCATION_SHARE = 0.08


def _entry(sent_at: dt.datetime, **parts: Any) -> dict[str, Any]:
    """One ``entry`` of a Page webhook (``object: "page"``): ``changes[]`` or ``messaging[]``.
    https://developers.facebook.com/docs/graph-api/webhooks/reference/page/"""
    return {"id": PAGE_ID, "time": int(sent_at.timestamp()), **parts}


def _items(results: list[Any]) -> list[InboundItem]:
    return [r for r in results if isinstance(r, InboundItem)]


class _DemoPage:
    """The one simulated Facebook Page that both its comments and its Messenger belong to."""

    demo_handle = "Demo shop"

    @property
    def own_id(self) -> str:
        return PAGE_ID


@register
class SimulatedFacebookConnector(_DemoPage, SimulatedPlatform, FacebookPageConnector):  # type: ignore[misc]
    """Comments on the Page's posts (a thread per top-level comment, replies beneath it), some
    with a photo: ``feed`` changes through ``entry_results``."""

    kind = "facebook_demo"
    label = "Facebook Page (simulated)"
    opening_kinds = [("comment", 1)]

    def platform_items(self, seq: int, sent_at: dt.datetime) -> list[InboundItem]:
        root, opening, text = self.thread(seq)
        customer = self.simulation.customer(opening["customer"])
        post_id = f"{PAGE_ID}_{200000 + root % POSTS}"
        # A feed change for a comment (item "comment", verb "add"; parent_id is the post for a
        # top-level comment, the comment for a reply), from the Page webhooks reference, "feed".
        value: dict[str, Any] = {
            "from": {"id": str(700000 + opening["customer"]), "name": customer.display_name},
            "item": "comment",
            "verb": "add",
            "post_id": post_id,
            "comment_id": f"{post_id}_{300000 + seq}",
            "parent_id": post_id if root == seq else f"{post_id}_{300000 + root}",
            "created_time": int(sent_at.timestamp()),
            "message": text,
        }
        photo = self.photo(seq, opening, root)
        if photo is not None:
            value["photo"] = f"https://scontent.xx.fbcdn.net/v/{photo[0]}"
        entry = _entry(sent_at, changes=[{"field": "feed", "value": value}])
        return _items(fb_normalize.entry_results(entry, page_id=PAGE_ID).feed)

    def set_hidden(self, comment_id: str, hidden: bool) -> None:
        """The simulated Page hides and shows comments without complaint."""


@register
class SimulatedMessengerConnector(_DemoPage, SimulatedPlatform, MessengerConnector):  # type: ignore[misc]
    """Messenger conversations: texts, a photo, a sticker or a shared location now and then,
    as ``messaging`` events through ``messaging_event``; the real 24-hour window applies."""

    kind = "messenger_demo"
    label = "Messenger (simulated)"
    opening_kinds = [("dm", 1)]

    def platform_items(self, seq: int, sent_at: dt.datetime) -> list[InboundItem]:
        root, opening, text = self.thread(seq)
        customer = self.simulation.customer(opening["customer"])
        psid = str(8000000000000000 + opening["customer"])
        rng = self.rng("attachment", seq)
        roll = rng.random()
        # A message event (sender, recipient, timestamp in ms, message{mid, text, attachments}):
        # https://developers.facebook.com/docs/messenger-platform/reference/webhook-events
        message: dict[str, Any] = {"mid": f"m_sim{self.simulation.seed}-{seq}", "text": text}
        photo = self.photo(seq, opening, root)
        if photo is not None:
            url = f"https://cdn.fbsbx.com/v/{photo[0]}"
            message["attachments"] = [{"type": "image", "payload": {"url": url}}]
        elif root != seq and roll < STICKER_SHARE:
            url = "https://scontent.xx.fbcdn.net/v/sticker-smile.png"
            message = {
                "mid": message["mid"],
                "attachments": [
                    {"type": "image", "payload": {"url": url, "sticker_id": STICKER_ID}}
                ],
            }
        elif roll < STICKER_SHARE + LOCATION_SHARE:
            place = rng.choice(list(corpus.SLOTS["city"]))
            message["attachments"] = [
                {
                    "type": "location",
                    "title": f"Afhaalpunt {place}",
                    "payload": {"coordinates": {"lat": 52.0 + rng.random(), "long": 5.0}},
                }
            ]
        event = {
            "sender": {"id": psid},
            "recipient": {"id": PAGE_ID},
            "timestamp": int(sent_at.timestamp() * 1000),
            "message": message,
        }
        items = _items(
            fb_normalize.entry_results(
                _entry(sent_at, messaging=[event]), page_id=PAGE_ID
            ).messaging
        )
        # Messaging events carry only the PSID; the real channel asks the User Profile API
        # for the name (MessengerConnector.profile), the simulated one knows it.
        author = InboundAuthor(platform_user_id=psid, display_name=customer.display_name)
        return [dataclasses.replace(item, author=author) for item in items]

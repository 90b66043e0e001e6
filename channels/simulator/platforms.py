"""Simulated channels shaped like each real platform, for the demo.

Each is the real connector of its platform with three things replaced: ``fetch`` builds the
platform's own payloads (in the shape its documentation gives) from the simulator's corpus and
hands them to that platform's real normaliser, so the demo exercises the same path a live
channel takes; ``send`` answers as the platform would without a network; media come from the
demo images shipped in ``media/``. Everything else — the reply modes per ticket kind, the text
limit and how it is counted (X's weighted count), reply windows (Messenger's 24 hours), hiding
comments — is the real connector's, so the composer offers exactly what that platform allows.

Like the simulator, every payload is a pure function of (seed, sequence number).
"""

from __future__ import annotations

import datetime as dt
import random
from pathlib import PurePosixPath
from typing import Any, ClassVar
from urllib.parse import urlsplit

from django.utils import timezone

from ..base import (
    ConnectionInfo,
    Connector,
    FetchResult,
    InboundAttachment,
    InboundItem,
    MediaRequest,
    OutboundReply,
    PermanentError,
    SendResult,
)
from ..registry import register
from ..reviews.trustpilot import TrustpilotConnector
from ..x import normalize as x_normalize
from ..x.connector import XConnector
from . import corpus
from .connector import MEDIA_DIR, PHOTOS, Simulation

# Share of complaints that open with a photo of the problem.
PHOTO_SHARE = 0.35


class SimulatedPlatform(Connector):
    """What every simulated platform shares; put before the real connector in the bases."""

    credential_fields: ClassVar[dict[str, str]] = {}
    settings_fields = {
        "seed": "Same seed, same traffic.",
        "rate_per_minute": "New messages per minute (live).",
    }
    settings_types = {"seed": "int"}
    settings_defaults: ClassVar[dict[str, Any]] = {}
    default_poll_interval = 5
    # No webhook and no network host: photos are the demo images shipped with the code.
    webhook: ClassVar[Any] = None
    media_hosts: ClassVar[tuple[str, ...]] = ()
    media_local_dir = str(MEDIA_DIR)
    # The ticket kinds new threads open as, weighted.
    opening_kinds: ClassVar[list[tuple[str, int]]] = [("mention", 1)]
    demo_handle: ClassVar[str] = "webcare_demo"

    @property
    def simulation(self) -> Simulation:
        seed = int(self.channel.settings.get("seed", self.channel.id or 1))
        return Simulation(seed, kinds=self.opening_kinds)

    def rng(self, *parts: object) -> random.Random:
        return self.simulation._rng(self.kind, *parts)

    def fetch(self, cursor: dict[str, Any]) -> FetchResult:
        settings = self.channel.settings
        now = timezone.now()
        seq = int(cursor.get("seq", 0))
        if "per_poll" in settings:
            count = int(settings["per_poll"])
        else:
            last = cursor.get("at")
            elapsed = (now - dt.datetime.fromisoformat(last)).total_seconds() if last else 60.0
            expected = max(0.0, elapsed) * float(settings.get("rate_per_minute", 2)) / 60.0
            chance = self.rng("count", seq, int(now.timestamp())).random()
            count = int(expected) + (1 if chance < expected - int(expected) else 0)
        count = min(count, int(settings.get("max_per_poll", 50)))
        start = settings.get("start")
        spacing = float(settings.get("spacing_seconds", 60))
        items: list[InboundItem] = []
        for n in range(seq, seq + count):
            if start:
                sent_at = dt.datetime.fromisoformat(start) + dt.timedelta(seconds=n * spacing)
            else:
                sent_at = now - dt.timedelta(seconds=(seq + count - n - 1))
            items.extend(self.platform_items(n, sent_at))
        return FetchResult(items=items, cursor={"seq": seq + count, "at": now.isoformat()})

    def platform_items(self, seq: int, sent_at: dt.datetime) -> list[InboundItem]:
        """Item ``seq``: its platform payload, through the platform's normaliser."""
        raise NotImplementedError

    def thread(self, seq: int) -> tuple[int, dict[str, Any], str]:
        """(root, opening, text) of item ``seq``: the thread it belongs to (a follow-up
        continues an earlier one), how that thread opened, and what this item says."""
        simulation = self.simulation
        root = simulation.root(seq)
        opening = simulation._opening(root)
        if root == seq:
            return root, opening, opening["text"]
        rng = simulation._rng("item", seq)
        language = opening["language"]
        text = simulation._fill(rng, rng.choice(corpus.FOLLOW_UPS[language]), language)
        return root, opening, text

    def photo(self, seq: int, opening: dict[str, Any], root: int) -> tuple[str, str] | None:
        """(file name, alt text) of the photo some complaints open with."""
        rng = self.rng("photo", seq)
        if root != seq or opening["intent"] != "complaint" or rng.random() >= PHOTO_SHARE:
            return None
        name, _mime, alt = rng.choice(PHOTOS)
        return name, alt

    def send(self, reply: OutboundReply) -> SendResult:
        # The simulated platform honours idempotency keys: the same key is the same post.
        return SendResult(external_id=f"sim-{self.kind}-{reply.idempotency_key}")

    def find_sent(self, reply: OutboundReply) -> SendResult | None:
        return None  # posting again under the same key is the same simulated post

    def test_connection(self) -> ConnectionInfo:
        return ConnectionInfo(
            account_id=self.kind, handle=self.demo_handle, display_name="Demo shop"
        )

    def media_request(self, attachment: InboundAttachment) -> MediaRequest:
        """The platform's media URL → the demo image of the same file name."""
        name = PurePosixPath(urlsplit(attachment.url).path).name
        path = (MEDIA_DIR / name).resolve()
        if not name or not path.is_relative_to(MEDIA_DIR) or not path.is_file():
            raise PermanentError("The simulated platform has no such file.")
        return MediaRequest(url=path.as_uri())


def _iso(when: dt.datetime) -> str:
    return when.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


# --- X: mentions and DMs -------------------------------------------------------------------
X_OWN_ID = "1500000000000000001"


@register
# mypy reads XConnector's media_hosts as a 4-tuple; the simulated one has none, on purpose.
class SimulatedXConnector(SimulatedPlatform, XConnector):  # type: ignore[misc]
    """X mentions (with replies in their conversation) and DMs, as API v2 answers them,
    through ``channels.x.normalize``: the composer counts with X's weighting and offers no
    public reply on a DM."""

    kind = "x_demo"
    label = "X (simulated)"
    opening_kinds = [("mention", 60), ("dm", 40)]

    @property
    def own_id(self) -> str:
        return X_OWN_ID

    def platform_items(self, seq: int, sent_at: dt.datetime) -> list[InboundItem]:
        root, opening, text = self.thread(seq)
        customer = self.simulation.customer(opening["customer"])
        user_id = str(1600000000000000000 + opening["customer"])
        # A v2 user object (fields name, username, verified, public_metrics).
        user = {
            "id": user_id,
            "name": customer.display_name,
            "username": customer.handle,
            "verified": customer.verified,
            "public_metrics": {"followers_count": customer.followers or 0},
        }
        base = 1800000000000000000 + self.simulation.seed * 100000
        if opening["kind"] == "dm":
            # A DM event as GET /2/dm_events answers it (data dictionary, "DM event"):
            # https://docs.x.com/x-api/fundamentals/data-dictionary
            event = {
                "id": str(base + seq),
                "event_type": "MessageCreate",
                "text": text,
                "sender_id": user_id,
                "dm_conversation_id": x_normalize.dm_conversation_id(user_id, X_OWN_ID),
                "created_at": _iso(sent_at),
            }
            page = {"data": [event], "includes": {"users": [user]}}
            return x_normalize.dm_page_to_items(page, own_id=X_OWN_ID)
        # A post as GET /2/users/:id/mentions answers it (same data dictionary, "Post").
        tweet: dict[str, Any] = {
            "id": str(base + seq),
            "text": f"@{self.demo_handle} {text}",
            "author_id": user_id,
            "conversation_id": str(base + root),
            "created_at": _iso(sent_at),
            "lang": opening["language"],
            "edit_history_tweet_ids": [str(base + seq)],
        }
        if root != seq:
            tweet["referenced_tweets"] = [{"type": "replied_to", "id": str(base + root)}]
        includes: dict[str, Any] = {"users": [user]}
        photo = self.photo(seq, opening, root)
        if photo is not None:
            key = f"3_{base + seq}"
            tweet["attachments"] = {"media_keys": [key]}
            includes["media"] = [
                {
                    "media_key": key,
                    "type": "photo",
                    "url": f"https://pbs.twimg.com/media/{photo[0]}",
                    "alt_text": photo[1],
                }
            ]
        page = {"data": [tweet], "includes": includes}
        return x_normalize.tweets_page_to_items(
            page, own_id=X_OWN_ID, own_handle=self.demo_handle, source="mentions"
        )


# --- review sites ----------------------------------------------------------------------------
@register
class SimulatedReviewsConnector(SimulatedPlatform, TrustpilotConnector):
    """A review site shaped like Trustpilot: reviews with 1–5 stars (sometimes edited by the
    reviewer), read by the Trustpilot connector's own ``parse_review`` and ``review_items``;
    answered in public only, one business reply per review."""

    kind = "reviews_demo"
    label = "Trustpilot (simulated)"
    opening_kinds = [("review", 1)]
    auto_ack_default = False

    def platform_items(self, seq: int, sent_at: dt.datetime) -> list[InboundItem]:
        root, opening, text = self.thread(seq)
        customer = self.simulation.customer(opening["customer"])
        review_id = f"{self.simulation.seed:08x}{root:016x}"
        stars = opening["rating"] or 3
        created = sent_at
        body = opening["text"]
        if root != seq:
            # The reviewer came back: the same review, edited (a new updatedAt, a star less).
            created = sent_at - dt.timedelta(hours=2)
            body = f"{opening['text']} {text}"
            stars = max(1, stars - 1)
        # A review as the Business Units API lists it (id, stars, title, text, language,
        # createdAt, updatedAt, consumer{id, displayName}):
        # https://developers.trustpilot.com/business-units-api
        raw = {
            "id": review_id,
            "stars": stars,
            "title": body.split(".")[0][:60],
            "text": body,
            "language": opening["language"],
            "createdAt": _iso(created),
            "updatedAt": _iso(sent_at),
            "consumer": {"id": f"{opening['customer']:024x}", "displayName": customer.display_name},
        }
        return self.review_items(self.parse_review(raw))

    def send(self, reply: OutboundReply) -> SendResult:
        from ..reviews.base import review_id_of

        # As Trustpilot keeps it: one business reply per review, echoed with its digest id.
        return self._result(review_id_of(reply), reply.text, "")

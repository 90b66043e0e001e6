"""The simulator: realistic webcare traffic through the real connector interface.

Every item is a pure function of (seed, sequence number), so a test that fetches with the same
seed and cursor gets the same items, and a replayed fetch delivers exactly the same platform ids.
Live, the number of items per fetch follows the clock (``rate_per_minute``); in tests a fixed
``per_poll`` makes it independent of time.

Settings (all optional): ``seed`` (int), ``rate_per_minute`` (float, default 6), ``per_poll``
(int, fixed count per fetch), ``max_per_poll`` (int, default 50), ``fail_rate`` (0..1, share of
replies the simulated platform rejects), ``start`` (ISO time; with it, timestamps are
deterministic too: item n is sent at start + n * ``spacing_seconds``).
"""

from __future__ import annotations

import datetime as dt
import random
from pathlib import Path
from typing import Any, ClassVar

from django.utils import timezone

from ..base import (
    ConnectionInfo,
    Connector,
    FetchResult,
    InboundAttachment,
    InboundAuthor,
    InboundItem,
    MediaRequest,
    OutboundReply,
    PermanentError,
    SendResult,
)
from ..registry import register
from . import corpus

NEW_KINDS = [("mention", 35), ("dm", 25), ("comment", 20), ("review", 20)]
INTENTS = [("complaint", 45), ("question", 35), ("compliment", 20)]
RATING_BY_INTENT = {"complaint": (1, 2), "question": (3, 4), "compliment": (4, 5)}
FOLLOW_UP_SHARE = 0.25
ECHO_SHARE = 0.04
CUSTOMER_POOL = 400
# Share of complaints that come with a photo of the problem, and of DMs that share a location.
PHOTO_SHARE = 0.3
LOCATION_SHARE = 0.08
# Demo photos shipped with the code: the simulator "downloads" them from here by file:// URL
# (Connector.media_local_dir), so `make demo` shows photos without any network.
MEDIA_DIR = Path(__file__).resolve().parent / "media"
MEDIA_URL = "https://simulator.invalid/media/"
PHOTOS = [
    ("parcel-damaged.jpg", "image/jpeg", "A parcel with a crushed corner"),
    ("coat-torn.jpg", "image/jpeg", "A coat with a torn seam"),
    ("app-error.png", "image/png", "A screenshot of the app showing an error"),
]
PLACES = [
    ("Amsterdam Centraal", 52.3791, 4.9003),
    ("Utrecht, Vredenburg", 52.0927, 5.1148),
    ("Rotterdam, Coolsingel", 51.9225, 4.4792),
]


def _weighted(rng: random.Random, options: list[tuple[str, int]]) -> str:
    return rng.choices([o for o, _ in options], weights=[w for _, w in options])[0]


class Simulation:
    """Deterministic generator of simulated platform items. ``kinds`` weighs the ticket kinds
    new threads open as (an Instagram-shaped channel has comments and DMs only)."""

    def __init__(self, seed: int, kinds: list[tuple[str, int]] | None = None) -> None:
        self.seed = seed
        self.kinds = kinds or NEW_KINDS

    def _rng(self, *parts: object) -> random.Random:
        return random.Random(":".join(str(p) for p in (self.seed, *parts)))  # noqa: S311

    def customer(self, index: int) -> InboundAuthor:
        rng = self._rng("customer", index)
        first = rng.choice(corpus.FIRST_NAMES)
        last = rng.choice(corpus.LAST_NAMES)
        handle = f"{first}{last.replace(' ', '')}{index % 100}".lower()
        return InboundAuthor(
            platform_user_id=f"sim-user-{index}",
            handle=handle,
            display_name=f"{first} {last}",
            followers=int(rng.paretovariate(1.2) * 40),
            verified=rng.random() < 0.03,
            profile_url="",
        )

    def root(self, seq: int) -> int:
        """The sequence number that opened the thread item ``seq`` belongs to."""
        while seq >= 3:
            rng = self._rng("item", seq)
            if rng.random() >= FOLLOW_UP_SHARE + ECHO_SHARE:
                break
            seq = rng.randrange(max(0, seq - 60), seq)
        return seq

    def _opening(self, seq: int) -> dict[str, Any]:
        rng = self._rng("open", seq)
        kind = _weighted(rng, self.kinds)
        intent = _weighted(rng, INTENTS)
        language = "nl" if rng.random() < 0.55 else "en"
        return {
            "kind": kind,
            "intent": intent,
            "language": language,
            "customer": rng.randrange(CUSTOMER_POOL),
            "rating": rng.randint(*RATING_BY_INTENT[intent]) if kind == "review" else None,
            "text": self._fill(rng, rng.choice(corpus.TEXTS[(intent, language)]), language),
        }

    def _fill(self, rng: random.Random, template: str, language: str) -> str:
        values = {
            "order": rng.choice(corpus.SLOTS["order"]),
            "product": rng.choice(corpus.SLOTS["product"][language]),
            "city": rng.choice(corpus.SLOTS["city"]),
            "days": rng.choice(corpus.SLOTS["days"]),
        }
        return template.format(**values)

    def attachments(self, seq: int, opening: dict[str, Any], *, is_root: bool):
        """A photo with some complaints (the opening message only), a location with some DMs.
        Drawn from their own random stream, so the texts stay what they were without media."""
        rng = self._rng("media", seq)
        found: list[InboundAttachment] = []
        if is_root and opening["intent"] == "complaint" and rng.random() < PHOTO_SHARE:
            name, mime, alt = rng.choice(PHOTOS)
            found.append(
                InboundAttachment(
                    kind="image",
                    url=MEDIA_URL + name,
                    mime_type=mime,
                    name=name,
                    alt_text=alt,
                    external_id=f"sim-media-{self.seed}-{seq}",
                )
            )
        if opening["kind"] == "dm" and rng.random() < LOCATION_SHARE:
            title, lat, long = rng.choice(PLACES)
            found.append(
                InboundAttachment(kind="location", title=title, latitude=lat, longitude=long)
            )
        return tuple(found)

    def item(self, seq: int, sent_at: dt.datetime) -> InboundItem:
        rng = self._rng("item", seq)
        roll = rng.random() if seq >= 3 else 1.0
        root = self.root(seq)
        opening = self._opening(root)
        thread_key = f"{opening['kind']}:{root}"
        author = self.customer(opening["customer"])
        kind = opening["kind"]
        rating = None
        if root == seq:
            text, rating = opening["text"], opening["rating"]
            is_ours = False
        elif roll < ECHO_SHARE and kind != "review":
            text = rng.choice(corpus.ECHOES[opening["language"]])
            is_ours = True
        elif kind == "review":
            # A reviewer who writes again edits their review: same platform id, new text.
            return InboundItem(
                external_id=f"sim-{self.seed}-{root}",
                thread_key=thread_key,
                kind=kind,
                text=opening["text"]
                + " "
                + self._fill(
                    rng, rng.choice(corpus.FOLLOW_UPS[opening["language"]]), opening["language"]
                ),
                sent_at=sent_at,
                author=author,
                edited=True,
                rating=max(1, (opening["rating"] or 3) - 1),
                language=opening["language"],
                raw={"simulated": True, "seq": seq, "edit_of": root},
            )
        else:
            text = self._fill(
                rng, rng.choice(corpus.FOLLOW_UPS[opening["language"]]), opening["language"]
            )
            is_ours = False
        attachments = () if is_ours else self.attachments(seq, opening, is_root=root == seq)
        return InboundItem(
            external_id=f"sim-{self.seed}-{seq}",
            thread_key=thread_key,
            kind=kind,
            text=text,
            attachments=attachments,
            sent_at=sent_at,
            author=None if is_ours else author,
            is_ours=is_ours,
            rating=rating,
            parent_external_id="" if root == seq else f"sim-{self.seed}-{root}",
            language=opening["language"],
            raw={"simulated": True, "seq": seq, "intent": opening["intent"]},
        )


@register
class SimulatorConnector(Connector):
    kind = "simulator"
    label = "Simulator"
    short_label = "Demo"
    icon = "◎"
    colour = "#475569"
    reply_modes: ClassVar[tuple[str, ...]] = ("public", "dm")
    text_limit = 1000
    ticket_kinds: ClassVar[tuple[str, ...]] = ("mention", "dm", "comment", "review")
    settings_fields = {
        "seed": "Same seed, same traffic.",
        "rate_per_minute": "New messages per minute (live).",
        "fail_rate": "Share of replies the simulated platform rejects, 0 to 1.",
    }
    settings_types = {"seed": "int"}
    # No network host: photos come from the demo images shipped in MEDIA_DIR (file:// URLs,
    # allowed for this connector only by media_url_allowed).
    media_hosts = ()
    media_local_dir = str(MEDIA_DIR)
    attachment_limits = {
        "kinds": ("image", "video", "audio", "file"),
        "mime_types": (),
        "max_bytes": 25 * 1024 * 1024,
        "max_count": 4,
    }

    @property
    def simulation(self) -> Simulation:
        return Simulation(int(self.channel.settings.get("seed", self.channel.id or 1)))

    def fetch(self, cursor: dict[str, Any]) -> FetchResult:
        settings = self.channel.settings
        now = timezone.now()
        seq = int(cursor.get("seq", 0))
        max_per_poll = int(settings.get("max_per_poll", 50))
        if "per_poll" in settings:
            count = int(settings["per_poll"])
        else:
            last = cursor.get("at")
            elapsed = (now - dt.datetime.fromisoformat(last)).total_seconds() if last else 60.0
            rate = float(settings.get("rate_per_minute", 6))
            expected = max(0.0, elapsed) * rate / 60.0
            # Whole items due, plus the fraction as a chance, so slow rates still trickle in.
            rng = self.simulation._rng("count", seq, int(now.timestamp()))
            count = int(expected) + (1 if rng.random() < expected - int(expected) else 0)
        count = min(count, max_per_poll)
        start = settings.get("start")
        spacing = float(settings.get("spacing_seconds", 60))
        items = []
        for n in range(seq, seq + count):
            if start:
                sent_at = dt.datetime.fromisoformat(start) + dt.timedelta(seconds=n * spacing)
            else:
                sent_at = now - dt.timedelta(seconds=(seq + count - n - 1))
            items.append(self.simulation.item(n, sent_at))
        return FetchResult(items=items, cursor={"seq": seq + count, "at": now.isoformat()})

    def send(self, reply: OutboundReply) -> SendResult:
        fail_rate = float(self.channel.settings.get("fail_rate", 0))
        if fail_rate and random.random() < fail_rate:  # noqa: S311 - simulated, not security
            raise PermanentError("The simulated platform rejected this reply (fail_rate).")
        # The simulated platform honours idempotency keys: the same key is the same post.
        return SendResult(external_id=f"sim-out-{reply.idempotency_key}")

    def media_request(self, attachment: InboundAttachment) -> MediaRequest:
        """The simulated platform's media URL → the demo image shipped with the code."""
        name = attachment.url.removeprefix(MEDIA_URL)
        path = (MEDIA_DIR / name).resolve()
        if not attachment.url.startswith(MEDIA_URL) or not path.is_relative_to(MEDIA_DIR):
            raise PermanentError("Not a simulator media address.")
        if not path.is_file():
            raise PermanentError("The simulated platform no longer has this file.")
        return MediaRequest(url=path.as_uri())

    def find_sent(self, reply: OutboundReply) -> SendResult | None:
        # Posting again is harmless here (same key, same post), so "not found" is safe to say.
        return None

    def test_connection(self) -> ConnectionInfo:
        return ConnectionInfo(account_id="simulator", handle="webcare_demo", display_name="Demo")


@register
class SimulatedInstagramConnector(SimulatorConnector):
    """The simulator shaped like an Instagram account: comments (threaded per top-level
    comment, answered publicly or moved to DM) and DMs; complaints come with a photo of the
    problem now and then (the simulator's demo images)."""

    kind = "simulator_instagram"
    label = "Instagram (simulated)"
    short_label = "Instagram"
    icon = "◉"
    colour = "#be185d"
    reply_modes = ("public", "private", "dm")
    ticket_kinds = ("comment", "dm")
    platform = "simulator_instagram"

    @classmethod
    def reply_modes_for(cls, ticket_kind: str) -> tuple[str, ...]:
        # As on Instagram: a DM is answered by DM, a comment publicly or moved to DM.
        from ..instagram.connector import InstagramConnector

        return InstagramConnector.reply_modes_for(ticket_kind)

    @property
    def simulation(self) -> Simulation:
        seed = int(self.channel.settings.get("seed", self.channel.id or 1))
        return Simulation(seed, kinds=[("comment", 55), ("dm", 45)])

    def test_connection(self) -> ConnectionInfo:
        return ConnectionInfo(
            account_id="simulator_instagram", handle="webcare.demo.shop", display_name="Demo"
        )

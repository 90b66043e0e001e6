"""One review connector shape: fetch new and edited reviews, post or update our public reply.

A platform subclass knows its URLs and JSON; this base knows what a review means for Webcare:

- a review is one ticket (``thread_key`` ``review:<id>``) whose first message is the review; its
  ``external_id`` is the review id, so an edit (the platform says it was updated after it was
  written) arrives with ``edited=True`` and replaces the stored text and stars, never a new ticket;
- our public reply, as the platform shows it, is an ``is_ours`` message in the same thread with
  external id ``<review id>:reply:<digest of its text>``. The digest makes each version of our
  reply its own message, so an agent's update is a second message in the thread (history kept)
  and the poll's echo of a reply we sent is recognised as that very message;
- reviews have no ``since_id``: the cursor is a high-water mark on the time the listing is
  ordered by, plus the ids seen at exactly that time, so nothing at the boundary is skipped or
  repeated; pages are followed with the platform's page token;
- a review that cannot be read (no rating, no time) is skipped with a warning kept in the cursor
  and the log; the rest of the batch is stored.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import re
from dataclasses import dataclass, field
from typing import Any, ClassVar

from django.utils import timezone

from ..base import (
    AuthError,
    Connector,
    FetchResult,
    InboundAuthor,
    InboundItem,
    OutboundReply,
    PermanentError,
    SendResult,
    TemporaryError,
)

log = logging.getLogger(__name__)

THREAD_PREFIX = "review:"
DEFAULT_BACKFILL_DAYS = 14
MAX_WARNINGS = 20
# A platform that bumps the review's update time when the business replies shows the two times
# (almost) equal; such a "change" is our reply, not the reviewer editing.
REPLY_BUMP_TOLERANCE = dt.timedelta(seconds=2)


class MalformedReview(Exception):  # noqa: N818 - a reason to skip, raised per review
    """A review the platform sent that we cannot read (missing rating, time or id)."""

    def __init__(
        self, reason: str, *, review_id: str = "", sort_time: dt.datetime | None = None
    ) -> None:
        super().__init__(reason)
        self.reason = reason
        self.review_id = review_id
        self.sort_time = sort_time


class MalformedPage(TemporaryError):
    """The listing itself is unreadable (not the shape documented): the poll fails and is
    recorded in the channel's health; nothing of the page is stored."""


@dataclass(frozen=True, slots=True)
class ReviewReply:
    text: str
    updated_at: dt.datetime | None = None


@dataclass(frozen=True, slots=True)
class Review:
    """A review normalised from any platform. ``rating`` is always 1..5 stars."""

    id: str
    rating: int
    text: str
    created_at: dt.datetime
    updated_at: dt.datetime
    author: InboundAuthor | None = None
    reply: ReviewReply | None = None
    url: str = ""
    language: str = ""
    raw: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ReviewPage:
    """One page of the platform's listing, still raw. ``next_page`` is None on the last page."""

    reviews: list[Any]
    next_page: str | int | None = None
    calls: int = 1


def parse_time(value: Any) -> dt.datetime | None:
    """RFC 3339 / ISO 8601 with any number of fraction digits (Google sends nanoseconds);
    a time without a zone is taken as UTC."""
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip().replace("Z", "+00:00").replace("z", "+00:00")
    match = re.match(r"^(.*?T\d{2}:\d{2}:\d{2})(\.\d+)?(.*)$", text)
    if match:
        head, fraction, zone = match.groups()
        fraction = (fraction or "")[:7]  # a dot and at most 6 digits
        text = f"{head}{fraction}{zone}"
    try:
        when = dt.datetime.fromisoformat(text)
    except ValueError:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return when.astimezone(dt.UTC)


def iso(when: dt.datetime | None) -> str | None:
    return when.isoformat() if when else None


def normalise_text(text: str) -> str:
    """Platforms trim and re-wrap replies; compare texts by their words, not their whitespace."""
    return " ".join((text or "").split())


def reply_external_id(review_id: str, text: str) -> str:
    digest = hashlib.sha256(normalise_text(text).encode()).hexdigest()[:16]
    return f"{review_id}:reply:{digest}"


def review_id_of(reply: OutboundReply) -> str:
    if reply.thread_key.startswith(THREAD_PREFIX):
        return reply.thread_key[len(THREAD_PREFIX) :]
    if reply.in_reply_to:
        return reply.in_reply_to
    raise PermanentError("This ticket is not a review: there is no review to reply to.")


def stars_from_ten(score: Any) -> int:
    """A 0..10 score (Kiyoh) as 1..5 stars: 9-10 → 5, 7-8 → 4, 5-6 → 3, 3-4 → 2, 0-2 → 1."""
    value = float(score)
    if not 0 <= value <= 10:
        raise ValueError(f"score {score!r} is outside 0..10")
    return max(1, min(5, -(-int(round(value)) // 2)))


class ReviewConnector(Connector):
    """Base of the review-site connectors. Subclasses implement the five platform hooks below."""

    # Reviews arrive slowly and the platforms' quotas are small: every ten minutes.
    default_poll_interval = 600

    reply_modes: ClassVar[tuple[str, ...]] = ("public",)
    ticket_kinds: ClassVar[tuple[str, ...]] = ("review",)
    # No robotic "we'll get back to you" under a public review.
    auto_ack_default: ClassVar[bool] = False

    # How the platform's listing is ordered, which decides how the cursor advances:
    # "updated_desc" (newest change first), "created_desc" (newest review first; edits of older
    # reviews are caught by re-reading a window, see ``rescan_window``), "updated_asc" (oldest
    # change first, filtered by a "since" time: each page moves the mark forward by itself).
    listing: ClassVar[str] = "updated_desc"
    # The platform's reply call creates or replaces in one request (Google, Kiyoh); when False the
    # base looks the review up first and calls ``update_reply`` if a reply exists.
    reply_is_upsert: ClassVar[bool] = True
    # The platform's name in messages to agents and admins ("Google", "Trustpilot").
    platform_name: ClassVar[str] = ""

    # --- platform hooks -----------------------------------------------------------------------
    def list_page(self, *, page: str | int | None, since: dt.datetime) -> ReviewPage:
        """One page of the listing. ``since`` is the oldest time still wanted (a platform with a
        server-side filter may use it; the base filters again)."""
        raise NotImplementedError

    def parse_review(self, raw: Any) -> Review:
        """Normalise one raw review; raise :class:`MalformedReview` when it cannot be read."""
        raise NotImplementedError

    def get_review(self, review_id: str) -> Review | None:
        """The review as the platform shows it now, or None when it is gone (404)."""
        try:
            raw = self.fetch_review(review_id)
        except PermanentError as exc:
            if exc.code == 404:
                return None
            raise
        return self.parse_or_refuse(raw)

    def fetch_review(self, review_id: str) -> Any:
        """The raw review from the platform's single-review call (platforms that have one)."""
        raise NotImplementedError

    def parse_or_refuse(self, raw: Any) -> Review:
        try:
            return self.parse_review(raw)
        except MalformedReview as exc:
            raise PermanentError(
                f"{self.platform_name} sent an unreadable review: {exc.reason}"
            ) from exc

    def post_reply(self, review_id: str, text: str) -> ReviewReply | None:
        raise NotImplementedError

    def update_reply(self, review_id: str, text: str, *, current: Review) -> ReviewReply | None:
        return self.post_reply(review_id, text)

    # --- settings -----------------------------------------------------------------------------
    def setting(self, name: str, default: Any = None) -> Any:
        """The channel's setting, else the kind's declared default (what the form shows)."""
        value = self.channel.settings.get(name)
        if value in (None, ""):
            value = self.settings_defaults.get(name, default)
        return default if value in (None, "") else value

    def credential(self, name: str) -> str:
        value = self.channel.credentials.get(name)
        if not value:
            raise AuthError(f"The channel has no {name.replace('_', ' ')}: reconnect it.")
        return str(value)

    def page_size(self, default: int, maximum: int) -> int:
        return max(1, min(maximum, int(self.setting("page_size", default))))

    def backfill_start(self, now: dt.datetime) -> dt.datetime:
        """How far back the very first poll reads: old reviews are history, not work."""
        return now - dt.timedelta(days=float(self.setting("backfill_days", DEFAULT_BACKFILL_DAYS)))

    def rescan_window(self) -> dt.timedelta:
        return dt.timedelta(days=float(self.setting("edit_window_days", 7)))

    def rescan_every(self) -> dt.timedelta:
        return dt.timedelta(hours=float(self.setting("rescan_hours", 6)))

    # --- normalisation ------------------------------------------------------------------------
    def sort_time(self, review: Review) -> dt.datetime:
        return review.created_at if self.listing == "created_desc" else review.updated_at

    def review_items(self, review: Review) -> list[InboundItem]:
        edited = review.updated_at > review.created_at
        reply = review.reply
        sent_at = review.created_at
        if edited:
            bumped_by_reply = (
                reply is not None
                and reply.updated_at is not None
                and review.updated_at <= reply.updated_at + REPLY_BUMP_TOLERANCE
            )
            # The time of this version of the text: an edit after our reply makes the customer
            # wait again; a reply that merely bumped the update time does not.
            sent_at = review.created_at if bumped_by_reply else review.updated_at
        thread_key = f"{THREAD_PREFIX}{review.id}"
        raw = {
            "platform": self.kind,
            "created_at": iso(review.created_at),
            "updated_at": iso(review.updated_at),
            "review": review.raw,
        }
        items = [
            InboundItem(
                external_id=review.id,
                thread_key=thread_key,
                kind="review",
                text=review.text,
                sent_at=sent_at,
                author=review.author,
                edited=edited,
                rating=review.rating,
                url=review.url,
                language=review.language,
                raw=raw,
            )
        ]
        if reply is not None and reply.text.strip():
            items.append(
                InboundItem(
                    external_id=reply_external_id(review.id, reply.text),
                    thread_key=thread_key,
                    kind="review",
                    text=reply.text,
                    sent_at=reply.updated_at or review.updated_at,
                    is_ours=True,
                    url=review.url,
                    parent_external_id=review.id,
                    raw={"platform": self.kind, "reply_of": review.id},
                )
            )
        return items

    # --- fetch --------------------------------------------------------------------------------
    def fetch(self, cursor: dict[str, Any]) -> FetchResult:
        if self.listing == "updated_asc":
            return self._fetch_ascending(cursor)
        return self._fetch_descending(cursor)

    def _read(
        self, raws: list[Any], warnings: list[dict[str, Any]]
    ) -> list[tuple[dt.datetime | None, str, Review | None]]:
        """Parse a page: (sort time, id, review or None when malformed) per raw review."""
        out: list[tuple[dt.datetime | None, str, Review | None]] = []
        for raw in raws:
            try:
                review = self.parse_review(raw)
            except MalformedReview as exc:
                log.warning(
                    "channel %s: skipped review %r: %s", self.channel.id, exc.review_id, exc.reason
                )
                warnings.append(
                    {
                        "review": exc.review_id,
                        "reason": exc.reason[:200],
                        "at": timezone.now().isoformat(),
                    }
                )
                out.append((exc.sort_time, exc.review_id, None))
                continue
            out.append((self.sort_time(review), review.id, review))
        return out

    def _fetch_descending(self, cursor: dict[str, Any]) -> FetchResult:
        """Newest first: a run reads pages down to the old mark and only then moves the mark, so
        a crash between pages resumes the run (its page token is in the cursor) and never skips
        the older half."""
        now = timezone.now()
        hwm = parse_time(cursor.get("hwm"))
        seen = set(cursor.get("seen") or [])
        run = cursor.get("run")
        if not run:
            stop = hwm or self.backfill_start(now)
            rescan = False
            last = parse_time(cursor.get("rescanned_at"))
            if (
                self.listing == "created_desc"
                and hwm is not None
                and (last is None or now - last >= self.rescan_every())
            ):
                # Reviews are listed by creation time: re-read a recent window for edits.
                stop, rescan = hwm - self.rescan_window(), True
            run = {"page": None, "stop": iso(stop), "top": None, "top_ids": [], "rescan": rescan}
        stop = parse_time(run["stop"]) or self.backfill_start(now)
        top = parse_time(run.get("top"))
        top_ids = set(run.get("top_ids") or [])

        page = self.list_page(page=run["page"], since=stop)
        warnings: list[dict[str, Any]] = []
        items: list[InboundItem] = []
        reached_stop = False
        for key, review_id, review in self._read(page.reviews, warnings):
            if key is not None:
                if top is None or key > top:
                    top, top_ids = key, {review_id}
                elif key == top:
                    top_ids.add(review_id)
                if key < stop:
                    reached_stop = True
                    continue
            if review is None:
                continue
            known = hwm is not None and key == hwm and review.id in seen
            if known and not run.get("rescan"):
                continue
            items.extend(self.review_items(review))

        new_cursor = {k: v for k, v in cursor.items() if k != "run"}
        if page.next_page is not None and not reached_stop:
            new_cursor["run"] = {
                **run,
                "page": page.next_page,
                "top": iso(top),
                "top_ids": sorted(top_ids),
            }
            more = True
        else:
            if top is not None and (hwm is None or top > hwm):
                hwm, seen = top, top_ids
            elif top is not None and top == hwm:
                seen |= top_ids
            new_cursor["hwm"] = iso(hwm)
            new_cursor["seen"] = sorted(seen)
            if run.get("rescan"):
                new_cursor["rescanned_at"] = now.isoformat()
            more = False
        return FetchResult(
            items=items,
            cursor=self._with_warnings(new_cursor, warnings),
            more=more,
            calls=page.calls,
        )

    def _fetch_ascending(self, cursor: dict[str, Any]) -> FetchResult:
        """Oldest change first from ``since``: every page moves the mark to its newest review."""
        now = timezone.now()
        hwm = parse_time(cursor.get("hwm"))
        seen = set(cursor.get("seen") or [])
        since = hwm or self.backfill_start(now)
        page = self.list_page(page=None, since=since)
        warnings: list[dict[str, Any]] = []
        items: list[InboundItem] = []
        top, top_ids = hwm, set(seen)
        for key, review_id, review in self._read(page.reviews, warnings):
            if key is not None:
                if top is None or key > top:
                    top, top_ids = key, {review_id}
                elif key == top:
                    top_ids.add(review_id)
                if key < since:
                    continue
            if review is None:
                continue
            if hwm is not None and key == hwm and review.id in seen:
                continue
            items.extend(self.review_items(review))
        progressed = top is not None and (hwm is None or top > hwm)
        more = page.next_page is not None and progressed
        if page.next_page is not None and not progressed:
            warnings.append(
                {
                    "review": "",
                    "reason": "A full page brought nothing newer than the mark (one update "
                    "time for the whole page, or the since filter ignored); paging stopped.",
                    "at": now.isoformat(),
                }
            )
        new_cursor = dict(cursor)
        new_cursor["hwm"] = iso(top)
        new_cursor["seen"] = sorted(top_ids)
        return FetchResult(
            items=items,
            cursor=self._with_warnings(new_cursor, warnings),
            more=more,
            calls=page.calls,
        )

    @staticmethod
    def _with_warnings(cursor: dict[str, Any], warnings: list[dict[str, Any]]) -> dict[str, Any]:
        if warnings:
            cursor["warnings"] = (list(cursor.get("warnings") or []) + warnings)[-MAX_WARNINGS:]
        return cursor

    # --- replies ------------------------------------------------------------------------------
    def send(self, reply: OutboundReply) -> SendResult:
        review_id = review_id_of(reply)
        if not reply.text.strip():
            raise PermanentError("An empty reply cannot be posted on a review site.")
        if self.reply_is_upsert:
            posted = self.post_reply(review_id, reply.text)
        else:
            current = self.get_review(review_id)
            if current is None:
                raise PermanentError("The review is gone from the platform; nothing to reply to.")
            if current.reply is not None and normalise_text(current.reply.text) == normalise_text(
                reply.text
            ):
                # Already there (an earlier attempt made it): posting again would change nothing.
                return self._result(review_id, reply.text, current.url)
            if current.reply is not None:
                posted = self.update_reply(review_id, reply.text, current=current)
            else:
                posted = self.post_reply(review_id, reply.text)
        text = posted.text if posted and posted.text else reply.text
        return self._result(review_id, text, "")

    def find_sent(self, reply: OutboundReply) -> SendResult | None:
        """Our reply with this text on the review means an earlier attempt got through. Each
        platform keeps one business reply per review, so "not there" is safe to post again: a
        second post replaces, it does not add."""
        review_id = review_id_of(reply)
        current = self.get_review(review_id)
        if current is None or current.reply is None:
            return None
        if normalise_text(current.reply.text) != normalise_text(reply.text):
            return None
        return self._result(review_id, current.reply.text, current.url)

    def _result(self, review_id: str, text: str, url: str) -> SendResult:
        return SendResult(
            external_id=reply_external_id(review_id, text),
            url=url,
            raw={"review": review_id, "platform": self.kind},
        )

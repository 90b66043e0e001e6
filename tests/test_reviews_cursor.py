"""The review cursor never skips a review or an edit, whatever the timing (property-based).

A platform double lists reviews newest change first with offset page tokens, like Google. Between
and during polls, reviewers write and edit (several at the same second), and some pages are lost
before they are stored (a worker crash: the cursor of that page is not kept). After a final quiet
poll, every review's current version must have been delivered at least once.
"""

from __future__ import annotations

import datetime as dt

from hypothesis import given, settings
from hypothesis import strategies as st

from channels.base import ChannelContext
from channels.reviews.base import Review, ReviewConnector, ReviewPage

T0 = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)


class FakePlatform:
    def __init__(self) -> None:
        self.reviews: dict[str, tuple[int, int, str]] = {}  # id -> (created, updated, text)
        self.clock = 0

    def act(self, action: tuple[str, int, int]) -> None:
        kind, target, step = action
        self.clock += step  # step 0: the same second as the previous change
        if kind == "new" or not self.reviews:
            rid = f"r{len(self.reviews)}"
            self.reviews[rid] = (self.clock, self.clock, f"{rid} v0")
        else:
            rid = sorted(self.reviews)[target % len(self.reviews)]
            created, updated, text = self.reviews[rid]
            # Two reviews may change in the same second; one review's new version always has a
            # later time than its previous one (else the platform itself shows no change).
            self.clock = max(self.clock, updated + 1)
            version = int(text.rsplit("v", 1)[1]) + 1
            self.reviews[rid] = (created, self.clock, f"{rid} v{version}")

    def listing(self) -> list[tuple[str, int, int, str]]:
        rows = [(rid, c, u, text) for rid, (c, u, text) in self.reviews.items()]
        return sorted(rows, key=lambda r: (-r[2], r[0]))


class FakeReviews(ReviewConnector):
    kind = "test_fake_reviews"  # not registered: used directly
    listing = "updated_desc"

    def __init__(self, platform: FakePlatform, page_size: int) -> None:
        super().__init__(
            ChannelContext(
                id=1, kind=self.kind, name="fake", credentials={}, settings={"backfill_days": 3650}
            )
        )
        self.platform = platform
        self.size = page_size

    def list_page(self, *, page, since):
        offset = int(page or 0)
        rows = self.platform.listing()[offset : offset + self.size]
        more = offset + self.size < len(self.platform.reviews)
        return ReviewPage(reviews=rows, next_page=offset + self.size if more else None)

    def parse_review(self, raw):
        rid, created, updated, text = raw
        return Review(
            id=rid,
            rating=3,
            text=text,
            created_at=T0 + dt.timedelta(seconds=created),
            updated_at=T0 + dt.timedelta(seconds=updated),
        )


actions = st.lists(
    st.tuples(st.sampled_from(["new", "edit"]), st.integers(0, 20), st.integers(0, 2)),
    max_size=40,
)


@settings(max_examples=150, deadline=None)
@given(
    before=actions,
    during=st.lists(actions, max_size=6),
    crashes=st.lists(st.booleans(), max_size=30),
    page_size=st.integers(1, 4),
)
def test_every_current_version_of_every_review_is_delivered(before, during, crashes, page_size):
    platform = FakePlatform()
    connector = FakeReviews(platform, page_size)
    delivered: set[str] = set()
    cursor: dict = {}
    crash = iter(crashes)
    for action in before:
        platform.act(action)
    # Polls while reviewers keep writing between (and during) them.
    for burst in [*during, []]:
        for _ in range(200):
            result = connector.fetch(dict(cursor))
            if next(crash, False):
                continue  # the page was never stored: its cursor is lost with it
            delivered |= {item.text for item in result.items if not item.is_ours}
            cursor = result.cursor
            if burst:
                platform.act(burst.pop(0))
            if not result.more:
                break
        for action in burst:
            platform.act(action)
    # A quiet final poll, to completion.
    for _ in range(200):
        result = connector.fetch(dict(cursor))
        delivered |= {item.text for item in result.items}
        cursor = result.cursor
        if not result.more:
            break
    current = {text for _, _, text in platform.reviews.values()}
    assert current <= delivered

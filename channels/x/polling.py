"""Polling X: mentions, DM events and keyword searches, each paged with a cursor of its own.

A poll asks each source for one page. While one of them is paging through a burst (its cursor
holds a ``next_token``), the next poll continues only those still paging, so a burst is read to
its end before anything newer is asked for. Partial errors (a 200 with ``errors``) are kept on
the cursor for the health page; the billed units of each page are counted for the usage page.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from ..base import FetchResult, InboundItem, PermanentError
from . import counting, normalize

if TYPE_CHECKING:
    from .connector import XConnector

log = logging.getLogger(__name__)

PAGE_SIZE = 100
DM_PAGE_SIZE = 100
MAX_PARTIAL_ERRORS_KEPT = 5


def keywords(settings: dict[str, Any]) -> list[str]:
    """The listening queries: a list, or one query per line as typed in the channel form."""
    raw = settings.get("keywords") or []
    if isinstance(raw, str):
        raw = raw.splitlines()
    seen: list[str] = []
    for query in raw:
        query = str(query).strip()
        if query and query not in seen:
            seen.append(query)
    return seen


def _id_int(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


class Poll:
    """One poll of an X channel: the three sources' cursors, and what their pages gave."""

    def __init__(self, connector: XConnector, cursor: dict[str, Any]) -> None:
        self.connector = connector
        settings = connector.channel.settings
        self.mentions = dict(cursor.get("mentions") or {})
        self.dms = dict(cursor.get("dms") or {})
        searches_before = dict(cursor.get("search") or {})
        self.searches = {q: dict(searches_before.get(q) or {}) for q in keywords(settings)}
        self.fetch_dms = (
            settings.get("fetch_dms", True) not in (False, "false", "0", 0) and connector.user_auth
        )
        if not self.fetch_dms:
            self.dms.pop("next_token", None)  # switched off mid-paging: do not wait for it forever
        paging = [self.mentions.get("next_token"), self.dms.get("next_token")] + [
            s.get("next_token") for s in self.searches.values()
        ]
        self.continuing = any(paging)
        self.items: list[InboundItem] = []
        self.partial: list[dict[str, Any]] = []
        self.calls = 0
        self.billed: dict[str, int] = {}

    def _took(self, page: dict[str, Any], *, dm: bool = False) -> None:
        """Count one call, its billed units and its partial errors."""
        self.calls += 1
        for key, units in counting.billed_units(page, dm=dm).items():
            self.billed[key] = self.billed.get(key, 0) + units
        self.partial += page.get("errors") or []

    def mentions_read(self) -> None:
        if self.continuing and not self.mentions.get("next_token"):
            return
        c = self.connector
        page = c._call(
            c.api.get_users_mentions,
            c.own_id,
            max_results=PAGE_SIZE,
            expansions=normalize.TWEET_EXPANSIONS,
            tweet_fields=normalize.TWEET_FIELDS,
            user_fields=normalize.USER_FIELDS,
            media_fields=normalize.MEDIA_FIELDS,
            user_auth=c.user_auth,
            **tweet_paging(self.mentions, "pagination_token"),
        )
        self._took(page)
        self.items += normalize.tweets_page_to_items(page, own_id=c.own_id, source="mentions")
        self.mentions = tweets_advance(self.mentions, page)

    def dms_read(self) -> None:
        if not self.fetch_dms or (self.continuing and not self.dms.get("next_token")):
            return
        c = self.connector
        params: dict[str, Any] = {}
        if self.dms.get("next_token"):
            params["pagination_token"] = self.dms["next_token"]
        page = c._call(
            c.api.get_direct_message_events,
            dm_event_fields=normalize.DM_EVENT_FIELDS,
            event_types="MessageCreate",
            expansions=normalize.DM_EXPANSIONS,
            user_fields=normalize.USER_FIELDS,
            media_fields=normalize.MEDIA_FIELDS,
            max_results=DM_PAGE_SIZE,
            **params,
        )
        self._took(page, dm=True)
        dm_items = normalize.dm_page_to_items(page, own_id=c.own_id)
        fresh, self.dms = dms_advance(self.dms, page, dm_items)
        self.items += fresh

    def searches_read(self) -> None:
        c = self.connector
        for query, state in self.searches.items():
            if self.continuing and not state.get("next_token"):
                continue
            try:
                page = search(c, query, state)
            except PermanentError as exc:
                if exc.code != 400 or not state.get("since_id"):
                    raise
                # Recent search reaches back 7 days and refuses an older since_id (a channel
                # that was off for a week): start again from what search still has.
                self.calls += 1
                log.info("channel %s: search %r restarts: %s", c.channel.id, query, exc)
                state = {}
                page = search(c, query, state)
            self._took(page)
            self.items += normalize.tweets_page_to_items(
                page, own_id=c.own_id, source="search", own_handle=c._own_handle
            )
            self.searches[query] = tweets_advance(state, page)

    def result(self) -> FetchResult:
        cursor: dict[str, Any] = {
            "mentions": self.mentions,
            "dms": self.dms,
            "search": self.searches,
        }
        if self.partial:
            # A 200 with "errors" (a referenced tweet deleted, an author suspended): the rest of
            # the page is good. Kept on the cursor for the health page; never fails the batch.
            log.warning(
                "channel %s: X returned partial errors: %s", self.connector.channel.id, self.partial
            )
            cursor["partial_errors"] = [
                {k: e.get(k) for k in ("title", "detail", "resource_id", "type") if k in e}
                for e in self.partial[:MAX_PARTIAL_ERRORS_KEPT]
                if isinstance(e, dict)
            ]
        more = bool(
            self.mentions.get("next_token")
            or self.dms.get("next_token")
            or any(s.get("next_token") for s in self.searches.values())
        )
        return FetchResult(
            items=self.items, cursor=cursor, more=more, calls=self.calls, billed=self.billed
        )


def fetch(connector: XConnector, cursor: dict[str, Any]) -> FetchResult:
    """Mentions, then DM events (with user auth, unless switched off), then each search."""
    if not connector.own_id:
        raise PermanentError(
            "The channel does not know its X account: run 'test connection' first."
        )
    poll = Poll(connector, cursor)
    poll.mentions_read()
    poll.dms_read()
    poll.searches_read()
    return poll.result()


def search(connector: XConnector, query: str, state: dict[str, Any]) -> dict[str, Any]:
    return connector._call(
        connector.api.search_recent_tweets,
        query,
        max_results=PAGE_SIZE,
        expansions=normalize.TWEET_EXPANSIONS,
        tweet_fields=normalize.TWEET_FIELDS,
        user_fields=normalize.USER_FIELDS,
        media_fields=normalize.MEDIA_FIELDS,
        user_auth=connector.user_auth,
        **tweet_paging(state, "next_token"),
    )


def tweet_paging(state: dict[str, Any], token_param: str) -> dict[str, Any]:
    params: dict[str, Any] = {}
    if state.get("since_id"):
        params["since_id"] = state["since_id"]
    if state.get("next_token"):
        params[token_param] = state["next_token"]
    return params


def tweets_advance(state: dict[str, Any], page: dict[str, Any]) -> dict[str, Any]:
    """since_id moves to the newest id of the run's first page once its last page is in."""
    meta = page.get("meta") or {}
    state = dict(state)
    if not state.get("next_token") and meta.get("newest_id"):
        state["newest_id"] = str(meta["newest_id"])  # first page of this run
    if meta.get("next_token"):
        state["next_token"] = meta["next_token"]
    else:
        state.pop("next_token", None)
        if state.get("newest_id"):
            state["since_id"] = state.pop("newest_id")
    return state


def dms_advance(
    state: dict[str, Any], page: dict[str, Any], items: list[InboundItem]
) -> tuple[list[InboundItem], dict[str, Any]]:
    """DM events have no since_id: pages come newest first, and we stop at the newest event
    stored last time. The first run takes only the first page (no 30-day backfill)."""
    state = dict(state)
    known = _id_int(state.get("newest_id"))
    fresh = [i for i in items if _id_int(i.external_id) > known]
    ids = [_id_int(e.get("id")) for e in page.get("data") or [] if isinstance(e, dict)]
    if not state.get("next_token") and ids:
        state["pending_newest"] = str(max(ids))
    next_token = (page.get("meta") or {}).get("next_token")
    reached_known = bool(ids) and min(ids) <= known
    if next_token and known and not reached_known:
        state["next_token"] = next_token
    else:
        state.pop("next_token", None)
        if state.get("pending_newest"):
            newest = max(_id_int(state.pop("pending_newest")), known)
            state["newest_id"] = str(newest)
    return fresh, state

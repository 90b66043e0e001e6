"""Reading a Facebook Page by polling: the feed's posts, their comments and recommendations
(the Page kind), and the recently active Messenger conversations (the Messenger kind).

Webhooks deliver everything as it happens; a poll reconciles what they missed. Each poll looks
``OVERLAP`` behind its watermark, and the database drops what it has already.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import TYPE_CHECKING, Any

from django.utils import timezone

from ..base import FetchResult, InboundItem, PermanentError
from ..meta.conversations import recent_conversations
from . import client, normalize

if TYPE_CHECKING:
    from .connector import FacebookPageConnector, MessengerConnector

log = logging.getLogger(__name__)

# A poll looks this far behind its last watermark, so late-indexed comments are not missed; the
# database drops what it already has.
OVERLAP = dt.timedelta(minutes=10)
FIRST_POLL_LOOKBACK = dt.timedelta(days=2)

# A comment's ``attachment`` and a post's ``attachments`` are story attachments (photo, album
# subattachments, video, sticker, GIF, share); a message's ``attachments`` are files with
# image_data/video_data/file_url, and ``sticker`` its sticker's image (docs/channels/facebook.md).
STORY_ATTACHMENT = "type,media_type,media,url,unshimmed_url,title,description,target"
COMMENT_FIELDS = (
    f"id,from,message,created_time,parent{{id}},permalink_url,attachment{{{STORY_ATTACHMENT}}}"
)
POST_FIELDS = (
    "id,message,story,created_time,updated_time,from,permalink_url,status_type,"
    f"attachments{{{STORY_ATTACHMENT},subattachments}}"
)
MESSAGE_FIELDS = (
    "id,created_time,from,to,message,sticker,"
    "attachments{id,mime_type,name,size,image_data,video_data,file_url}"
)
RATING_FIELDS = (
    "created_time,recommendation_type,review_text,reviewer,rating,has_rating,has_review,"
    "open_graph_story{id}"
)


def since_of(cursor: dict[str, Any]) -> dt.datetime:
    """The cursor's watermark, or ``FIRST_POLL_LOOKBACK`` ago on a channel's first poll."""
    watermark = client.parse_time(cursor.get("since"))
    return watermark or timezone.now() - FIRST_POLL_LOOKBACK


def cursor_after(items: list[InboundItem], since: dt.datetime) -> dict[str, Any]:
    """The next cursor: the newest item's time (or the old watermark, if nothing is newer)."""
    newest = max([since, *(i.sent_at for i in items)])
    return {"since": newest.isoformat()}


def feed_fetch(connector: FacebookPageConnector, cursor: dict[str, Any], depth: int) -> FetchResult:
    """The Page's ``depth`` most recent posts: new visitor posts and the new comments of each
    post changed since the watermark; then recommendations, where enabled and still served."""
    page_id = connector._require_page()
    graph = connector.graph
    since = since_of(cursor)
    floor = since - OVERLAP
    items: list[InboundItem] = []
    calls = 0
    posts: list[dict[str, Any]] = []
    for batch, calls_so_far in client.pages(
        graph,
        f"{page_id}/feed",
        max_pages=max(1, (depth + 24) // 25),
        fields=POST_FIELDS,
        limit=min(depth, 25),
    ):
        calls = calls_so_far
        posts.extend(batch)
        if len(posts) >= depth:
            break
    for post in posts[:depth]:
        changed = client.parse_time(post.get("updated_time") or post.get("created_time"))
        if changed is not None and changed < floor:
            continue  # no comment, edit or new post since the last poll
        created = client.parse_time(post.get("created_time"))
        if created is not None and created >= floor:
            visitor = normalize.visitor_post_item(post, page_id=page_id)
            if visitor is not None:
                items.append(visitor)
        try:
            found, used = recent_comments(graph, page_id, str(post["id"]), floor)
        except PermanentError as exc:
            # One post Meta will not show (deleted since the feed call, restricted): the
            # others still count. Token and rate-limit errors stop the poll as usual.
            log.info("skipping post %s of channel %s: %s", post["id"], connector.channel.id, exc)
            calls += 1
            continue
        items.extend(found)
        calls += used
    if connector.ratings_enabled() and connector.ratings_available():
        found, used = recent_ratings(graph, page_id, floor)
        items.extend(found)
        calls += used
    return FetchResult(items=items, cursor=cursor_after(items, since), calls=max(calls, 1))


def recent_comments(
    graph: Any, page_id: str, post_id: str, floor: dt.datetime
) -> tuple[list[InboundItem], int]:
    """The post's comments since ``floor``, newest first, up to three pages of 100."""
    items: list[InboundItem] = []
    calls = 0
    for batch, calls_so_far in client.pages(
        graph,
        f"{post_id}/comments",
        max_pages=3,
        filter="stream",
        order="reverse_chronological",
        fields=COMMENT_FIELDS,
        limit=100,
    ):
        calls = calls_so_far
        older = False
        for comment in batch:
            item = normalize.comment_item(comment, page_id=page_id, post_id=post_id)
            if item is None:
                continue
            if item.sent_at < floor:
                older = True
                continue
            items.append(item)
        if older:
            break
    return items, calls


def recent_ratings(graph: Any, page_id: str, floor: dt.datetime) -> tuple[list[InboundItem], int]:
    """The Page's recommendations since ``floor``; none once Meta stops serving them to this
    Graph version (comments still work)."""
    items: list[InboundItem] = []
    calls = 0
    try:
        for batch, calls_so_far in client.pages(
            graph, f"{page_id}/ratings", max_pages=2, fields=RATING_FIELDS, limit=50
        ):
            calls = calls_so_far
            stop = False
            for rating in batch:
                item = normalize.rating_item(rating, page_id=page_id)
                if item is None:
                    continue
                if item.sent_at < floor:
                    stop = True
                    continue
                items.append(item)
            if stop:
                break
    except PermanentError as exc:
        if exc.code != client.DEPRECATED_CODE:
            raise
        # Meta no longer serves recommendations to this version: comments still work.
        return [], calls + 1
    return items, calls


def messenger_fetch(connector: MessengerConnector, cursor: dict[str, Any]) -> FetchResult:
    """The messages since the watermark of the Page's recently active conversations."""
    page_id = connector._require_page()
    since = since_of(cursor)
    floor = since - OVERLAP
    items: list[InboundItem] = []
    extra = 0
    conversations, listing = recent_conversations(
        connector.graph, page_id, platform="messenger", message_fields=MESSAGE_FIELDS, floor=floor
    )
    for conversation in conversations:
        found, used = conversation_items(connector.graph, page_id, conversation, floor)
        items.extend(found)
        extra += used
    calls = listing + extra
    return FetchResult(items=items, cursor=cursor_after(items, since), calls=max(calls, 1))


def conversation_items(
    graph: Any, page_id: str, conversation: dict[str, Any], floor: dt.datetime
) -> tuple[list[InboundItem], int]:
    """One conversation's messages since ``floor``: the newest 25 that came with the listing,
    and up to two more pages for a busy conversation."""
    psid = normalize.conversation_psid(conversation, page_id=page_id)
    names = {
        str(p.get("id")): str(p.get("name") or "")
        for p in (conversation.get("participants") or {}).get("data") or []
        if isinstance(p, dict)
    }
    block = conversation.get("messages") or {}
    messages = list(block.get("data") or [])
    calls = 0
    paging = block.get("paging") or {}
    # Nested messages hold the newest 25; a busy conversation pages on, up to twice.
    while calls < 2 and messages and paging.get("next"):
        oldest = client.parse_time(messages[-1].get("created_time"))
        after = (paging.get("cursors") or {}).get("after")
        if oldest is None or oldest < floor or not after:
            break
        more = client.get(
            graph,
            f"{conversation['id']}/messages",
            fields=MESSAGE_FIELDS,
            limit=25,
            after=after,
        )
        calls += 1
        messages.extend(more.get("data") or [])
        paging = more.get("paging") or {}
    items = []
    for message in messages:
        item = normalize.conversation_message_item(
            message, page_id=page_id, psid=psid, display_name=names.get(psid, "")
        )
        if item is not None and item.sent_at >= floor:
            items.append(item)
    return items, calls

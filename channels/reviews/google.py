"""Google Business Profile reviews (My Business API v4), plain HTTP.

Facts and their sources are in docs/channels/reviews.md. In short: reviews are listed newest
change first (``orderBy=updateTime desc``, ``pageSize`` at most 50, ``nextPageToken``); a reply
is one ``PUT .../reviews/{id}/reply`` that creates it or replaces the existing one. Access tokens
come from the channel's OAuth refresh token at Google's token endpoint.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import quote

import requests

from channels.payload import child

from ..base import AuthError, ConnectionInfo, InboundAuthor, PermanentError
from ..http import json_call
from ..registry import register
from .base import (
    MalformedPage,
    MalformedReview,
    Review,
    ReviewConnector,
    ReviewPage,
    ReviewReply,
    parse_time,
)
from .tokens import bearer_call, token_key

API = "https://mybusiness.googleapis.com/v4"
TOKEN_URL = "https://oauth2.googleapis.com/token"  # noqa: S105 - an address, not a secret
PLATFORM = "Google"
STARS = {"ONE": 1, "TWO": 2, "THREE": 3, "FOUR": 4, "FIVE": 5}
MAX_PAGE_SIZE = 50


def _bare_id(value: str, prefix: str) -> str:
    """Accept "123" or "accounts/123" (as Google prints resource names) in the settings."""
    value = str(value or "").strip().strip("/")
    return value.split("/")[-1] if value.startswith(prefix) else value


@register
class GoogleReviewsConnector(ReviewConnector):
    kind = "google_reviews"
    label = "Google reviews"
    short_label = "Google"
    icon = "G"
    colour = "#b45309"
    platform_name = PLATFORM
    platform = "google_reviews"
    # ReviewReply.comment: "maximum length is 4096 bytes" (reference, ReviewReply).
    text_limit = 4096
    listing = "updated_desc"
    reply_is_upsert = True
    credential_fields = {
        "client_id": "OAuth client ID of the Google Cloud project with the Business Profile API.",
        "client_secret": "OAuth client secret of that project.",
        "refresh_token": "Refresh token of a location manager, granted the business.manage scope.",
    }
    settings_fields = {
        "account_id": "Business Profile account id (the number in accounts/{id}).",
        "location_id": "Location id (the number in locations/{id}).",
        "page_size": "Reviews per page, 1-50 (default 50).",
        "backfill_days": "How many days of older reviews the first poll brings in (default 14).",
    }
    settings_types = {"page_size": "int", "backfill_days": "int"}
    settings_defaults = {"page_size": MAX_PAGE_SIZE, "backfill_days": 14}

    def __init__(self, channel) -> None:
        super().__init__(channel)
        self.session = requests.Session()

    # --- auth ---------------------------------------------------------------------------------
    @property
    def _token_key(self) -> str:
        return token_key(
            self.kind,
            self.channel.id,
            self.credential("client_id"),
            self.credential("refresh_token"),
        )

    def _refresh(self) -> tuple[str, float]:
        data = {
            "client_id": self.credential("client_id"),
            "client_secret": self.credential("client_secret"),
            "refresh_token": self.credential("refresh_token"),
            "grant_type": "refresh_token",
        }
        try:
            body = json_call("POST", TOKEN_URL, platform=PLATFORM, session=self.session, data=data)
        except PermanentError as exc:
            # 400 invalid_grant: the refresh token expired or was revoked (or the client is
            # wrong). Only an admin reconnecting the channel fixes that.
            raise AuthError(
                f"Google refused the channel's refresh token ({exc.message}). "
                "Reconnect the channel.",
                code=exc.code,
            ) from exc
        token = body.get("access_token") if isinstance(body, dict) else None
        if not token:
            raise AuthError("Google's token endpoint answered without an access token.")
        return str(token), float(body.get("expires_in") or 3600)

    def _call(self, method: str, path: str, *, write: bool = False, **kwargs: Any) -> Any:
        return bearer_call(
            method,
            f"{API}/{path}",
            key=self._token_key,
            fetch=self._refresh,
            platform=PLATFORM,
            write=write,
            session=self.session,
            **kwargs,
        )

    @property
    def location(self) -> str:
        account = _bare_id(self.setting("account_id", ""), "accounts/")
        location = _bare_id(self.setting("location_id", ""), "locations/")
        if not account or not location:
            raise PermanentError("Set the channel's Google account id and location id.")
        return f"accounts/{account}/locations/{location}"

    def _review_path(self, review_id: str) -> str:
        return f"{self.location}/reviews/{quote(review_id, safe='')}"

    # --- platform hooks -----------------------------------------------------------------------
    def list_page(self, *, page: str | int | None, since: dt.datetime) -> ReviewPage:
        params: dict[str, Any] = {
            "pageSize": self.page_size(MAX_PAGE_SIZE, MAX_PAGE_SIZE),
            "orderBy": "updateTime desc",
        }
        if page:
            params["pageToken"] = page
        body = self._call("GET", f"{self.location}/reviews", params=params)
        if not isinstance(body, dict):
            raise MalformedPage("Google's review listing is not a JSON object.")
        reviews = body.get("reviews") or []
        if not isinstance(reviews, list):
            raise MalformedPage("Google's review listing has no list of reviews.")
        return ReviewPage(reviews=reviews, next_page=body.get("nextPageToken") or None)

    def parse_review(self, raw: Any) -> Review:
        if not isinstance(raw, dict):
            raise MalformedReview("not a JSON object")
        review_id = str(raw.get("reviewId") or str(raw.get("name") or "").rsplit("/", 1)[-1])
        created = parse_time(raw.get("createTime"))
        updated = parse_time(raw.get("updateTime")) or created
        if not review_id:
            raise MalformedReview("no reviewId", sort_time=updated)
        if created is None or updated is None:
            raise MalformedReview("no createTime", review_id=review_id, sort_time=updated)
        stars = STARS.get(str(raw.get("starRating") or ""))
        if stars is None:
            raise MalformedReview(
                f"starRating {raw.get('starRating')!r} is not ONE..FIVE",
                review_id=review_id,
                sort_time=updated,
            )
        reviewer = child(raw, "reviewer")
        anonymous = bool(reviewer.get("isAnonymous"))
        # Google gives reviewers no id: each review's author is its own identity.
        author = InboundAuthor(
            platform_user_id=f"reviewer-of:{review_id}",
            display_name=str(reviewer.get("displayName") or ("Anonymous" if anonymous else "")),
            avatar_url=str(reviewer.get("profilePhotoUrl") or "")[:1000],
        )
        reply = None
        raw_reply = raw.get("reviewReply")
        if isinstance(raw_reply, dict) and raw_reply.get("comment"):
            reply = ReviewReply(
                text=str(raw_reply["comment"]), updated_at=parse_time(raw_reply.get("updateTime"))
            )
        return Review(
            id=review_id,
            rating=stars,
            text=str(raw.get("comment") or ""),
            created_at=created,
            updated_at=max(updated, created),
            author=author,
            reply=reply,
            raw=raw,
        )

    def fetch_review(self, review_id: str) -> Any:
        return self._call("GET", self._review_path(review_id))

    def post_reply(self, review_id: str, text: str) -> ReviewReply | None:
        body = self._call(
            "PUT", f"{self._review_path(review_id)}/reply", write=True, json={"comment": text}
        )
        if isinstance(body, dict) and body.get("comment"):
            return ReviewReply(
                text=str(body["comment"]), updated_at=parse_time(body.get("updateTime"))
            )
        return None

    def test_connection(self) -> ConnectionInfo:
        body = self._call("GET", f"{self.location}/reviews", params={"pageSize": 1})
        body = body if isinstance(body, dict) else {}
        return ConnectionInfo(
            account_id=self.location.rsplit("/", 1)[-1],
            display_name=self.location,
            detail=(
                f"{body.get('totalReviewCount', 0)} reviews, "
                f"average {body.get('averageRating', '-')} stars"
            ),
        )

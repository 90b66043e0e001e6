"""Trustpilot service reviews of one business unit, plain HTTP.

Facts and their sources are in docs/channels/reviews.md. Reviews come from the private
business-unit listing (business user OAuth token; newest created first, ``page``/``perPage`` up
to 100, ``startDateTime``); the token is a client-credentials token from the channel's API key and
secret. A reply is ``POST /v1/private/reviews/{id}/reply``; Trustpilot documents no "edit reply"
call, so an update deletes the old reply (``DELETE`` on the same address) and posts the new one.
The listing is ordered by creation, not by change, so edited reviews are found by re-reading the
last ``edit_window_days`` every ``rescan_hours``.
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
from .tokens import bearer_call, cached_token, token_key

API = "https://api.trustpilot.com/v1"
TOKEN_URL = f"{API}/oauth/oauth-business-users-for-applications/accesstoken"
PLATFORM = "Trustpilot"
MAX_PAGE_SIZE = 100


@register
class TrustpilotConnector(ReviewConnector):
    kind = "trustpilot"
    label = "Trustpilot"
    short_label = "Trustpilot"
    icon = "★"
    colour = "#047857"
    platform_name = PLATFORM
    platform = "trustpilot"
    listing = "created_desc"
    reply_is_upsert = False
    credential_fields = {
        "api_key": "API key of the Trustpilot application (API module).",
        "api_secret": "API secret of that application.",
    }
    settings_fields = {
        "business_unit_id": "Business unit id of the domain whose reviews to answer.",
        "business_user_id": "Business user id that replies are posted as (authorBusinessUserId).",
        "page_size": "Reviews per page, 1-100 (default 100).",
        "backfill_days": "How many days of older reviews the first poll brings in (default 14).",
        "edit_window_days": "How far back to look again for edited reviews (default 7).",
        "rescan_hours": "How often to look back for edited reviews (default 6).",
    }
    settings_types = {
        "page_size": "int",
        "backfill_days": "int",
        "edit_window_days": "int",
        "rescan_hours": "int",
    }
    settings_defaults = {
        "page_size": MAX_PAGE_SIZE,
        "backfill_days": 14,
        "edit_window_days": 7,
        "rescan_hours": 6,
    }

    def __init__(self, channel) -> None:
        super().__init__(channel)
        self.session = requests.Session()

    # --- auth ---------------------------------------------------------------------------------
    @property
    def _token_key(self) -> str:
        return token_key(
            self.kind, self.channel.id, self.credential("api_key"), self.credential("api_secret")
        )

    def _fetch_token(self) -> tuple[str, float]:
        try:
            body = json_call(
                "POST",
                TOKEN_URL,
                platform=PLATFORM,
                session=self.session,
                auth=(self.credential("api_key"), self.credential("api_secret")),
                data={"grant_type": "client_credentials"},
            )
        except PermanentError as exc:
            raise AuthError(
                f"Trustpilot refused the channel's API key and secret ({exc.message}). "
                "Reconnect the channel.",
                code=exc.code,
            ) from exc
        token = body.get("access_token") if isinstance(body, dict) else None
        if not token:
            raise AuthError("Trustpilot's token endpoint answered without an access token.")
        # Documented as a string of seconds ("359999", 100 hours).
        try:
            lifetime = float(body.get("expires_in") or 3600)
        except (TypeError, ValueError):
            lifetime = 3600.0
        return str(token), lifetime

    def _private(self, method: str, path: str, *, write: bool = False, **kwargs: Any) -> Any:
        return bearer_call(
            method,
            f"{API}/{path}",
            key=self._token_key,
            fetch=self._fetch_token,
            platform=PLATFORM,
            write=write,
            session=self.session,
            **kwargs,
        )

    def _public(self, path: str, **kwargs: Any) -> Any:
        return json_call(
            "GET",
            f"{API}/{path}",
            platform=PLATFORM,
            session=self.session,
            headers={"apikey": self.credential("api_key")},
            **kwargs,
        )

    @property
    def business_unit(self) -> str:
        value = str(self.setting("business_unit_id", "")).strip()
        if not value:
            raise PermanentError("Set the channel's Trustpilot business unit id.")
        return value

    # --- platform hooks -----------------------------------------------------------------------
    def list_page(self, *, page: str | int | None, since: dt.datetime) -> ReviewPage:
        per_page = self.page_size(MAX_PAGE_SIZE, MAX_PAGE_SIZE)
        number = int(page or 1)
        # The filter takes a time without a zone; a day's margin covers any zone it assumes
        # (the base filters exactly).
        start = (since - dt.timedelta(days=1)).astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S")
        body = self._private(
            "GET",
            f"private/business-units/{quote(self.business_unit, safe='')}/reviews",
            params={
                "orderBy": "createdat.desc",
                "perPage": per_page,
                "page": number,
                "startDateTime": start,
            },
        )
        reviews = body.get("reviews") if isinstance(body, dict) else None
        if not isinstance(reviews, list):
            raise MalformedPage("Trustpilot's review listing has no list of reviews.")
        # A full page may have a next one; an empty next page ends the run.
        return ReviewPage(
            reviews=reviews, next_page=number + 1 if len(reviews) >= per_page else None
        )

    def parse_review(self, raw: Any) -> Review:
        if not isinstance(raw, dict):
            raise MalformedReview("not a JSON object")
        review_id = str(raw.get("id") or "")
        created = parse_time(raw.get("createdAt"))
        updated = parse_time(raw.get("updatedAt")) or created
        if not review_id:
            raise MalformedReview("no id", sort_time=created)
        if created is None or updated is None:
            raise MalformedReview("no createdAt", review_id=review_id)
        stars = raw.get("stars")
        if not isinstance(stars, int) or isinstance(stars, bool) or not 1 <= stars <= 5:
            raise MalformedReview(
                f"stars {stars!r} is not 1..5", review_id=review_id, sort_time=created
            )
        consumer = child(raw, "consumer")
        author = InboundAuthor(
            platform_user_id=str(consumer.get("id") or f"reviewer-of:{review_id}"),
            display_name=str(consumer.get("displayName") or ""),
        )
        title = str(raw.get("title") or "").strip()
        body = str(raw.get("text") or "").strip()
        text = (
            f"{title}\n\n{body}"
            if title and body and not body.startswith(title)
            else (body or title)
        )
        reply = None
        company = raw.get("companyReply")
        if isinstance(company, dict) and company.get("text"):
            reply = ReviewReply(
                text=str(company["text"]),
                updated_at=parse_time(company.get("updatedAt") or company.get("createdAt")),
            )
        return Review(
            id=review_id,
            rating=stars,
            text=text,
            created_at=created,
            updated_at=max(updated, created),
            author=author,
            reply=reply,
            language=str(raw.get("language") or "")[:8],
            raw=raw,
        )

    def fetch_review(self, review_id: str) -> Any:
        return self._public(f"reviews/{quote(review_id, safe='')}")

    def post_reply(self, review_id: str, text: str) -> ReviewReply | None:
        author = str(self.setting("business_user_id", "")).strip()
        if not author:
            raise PermanentError("Set the channel's business user id to reply on Trustpilot.")
        self._private(
            "POST",
            f"private/reviews/{quote(review_id, safe='')}/reply",
            write=True,
            json={"message": text, "authorBusinessUserId": author},
        )
        return None

    def update_reply(self, review_id: str, text: str, *, current: Review) -> ReviewReply | None:
        # Not a write in the "outcome unknown" sense: if the delete's answer is lost, the retry
        # looks the review up again and deletes or posts as it then finds.
        self._private("DELETE", f"private/reviews/{quote(review_id, safe='')}/reply")
        return self.post_reply(review_id, text)

    def test_connection(self) -> ConnectionInfo:
        cached_token(self._token_key, self._fetch_token)
        info = self._public(f"business-units/{quote(self.business_unit, safe='')}/profileinfo")
        info = info if isinstance(info, dict) else {}
        return ConnectionInfo(
            account_id=self.business_unit,
            display_name=str(info.get("companyName") or ""),
            detail="API key, secret and business unit accepted.",
        )

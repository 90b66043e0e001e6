"""Kiyoh and Klantenvertellen (one platform, two tenants), plain HTTP.

Facts and their sources are in docs/channels/reviews.md; note that no official reference of the
publication API was available to confirm them, only public integration code (the doc says which
facts rest on what). Reviews of one location are read with the ``X-Publication-Api-Token``
header, oldest change first from ``updatedSince``; our public response is one
``PUT /v1/publication/review/response``. Kiyoh scores are out of 10; a ticket shows 1..5 stars and
the original score stays in the stored review.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import requests

from ..base import AuthError, ConnectionInfo, InboundAuthor, OutcomeUnknown, PermanentError
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
    stars_from_ten,
)

PLATFORM = "Kiyoh"
HOSTS = {"98": "https://www.kiyoh.com", "99": "https://www.klantenvertellen.nl"}
DEFAULT_PAGE_SIZE = 100
# Kiyoh has no call to read one review (that we could confirm): a look-up scans this many of the
# most recently changed reviews.
LOOKUP_WINDOW = 500


def _content(raw: dict[str, Any]) -> dict[str, Any]:
    """The answers of a review by question group (``DEFAULT_OVERALL``, ``DEFAULT_ONELINER``,
    ``DEFAULT_OPINION``, ...). Seen both as a list and as a list of lists."""
    answers: dict[str, Any] = {}
    stack = list(raw.get("reviewContent") or [])
    while stack:
        entry = stack.pop(0)
        if isinstance(entry, list):
            stack[:0] = entry
        elif isinstance(entry, dict) and entry.get("questionGroup"):
            answers.setdefault(str(entry["questionGroup"]), entry.get("rating"))
    return answers


@register
class KiyohConnector(ReviewConnector):
    kind = "kiyoh"
    label = "Kiyoh / Klantenvertellen"
    short_label = "Kiyoh"
    icon = "K"
    colour = "#be123c"
    platform_name = PLATFORM
    platform = "kiyoh"
    listing = "updated_asc"
    reply_is_upsert = True
    credential_fields = {
        "api_token": "Publication API token (X-Publication-Api-Token) from the Kiyoh dashboard.",
    }
    settings_fields = {
        "tenant_id": "98 for Kiyoh, 99 for Klantenvertellen (default 98).",
        "host": "API host; defaults to https://www.kiyoh.com (98) or "
        "https://www.klantenvertellen.nl (99).",
        "location_id": "Location id of the shop whose reviews to answer.",
        "page_size": "Reviews per call (default 100).",
        "backfill_days": "How many days of older reviews the first poll brings in (default 14).",
    }
    settings_types = {"page_size": "int", "backfill_days": "int"}
    settings_defaults = {"tenant_id": "98", "page_size": DEFAULT_PAGE_SIZE, "backfill_days": 14}

    def __init__(self, channel) -> None:
        super().__init__(channel)
        self.session = requests.Session()

    @property
    def tenant(self) -> str:
        return str(self.setting("tenant_id", "98")).strip()

    @property
    def host(self) -> str:
        host = str(self.setting("host", "") or HOSTS.get(self.tenant, HOSTS["98"]))
        return host.rstrip("/")

    @property
    def location_id(self) -> str:
        value = str(self.setting("location_id", "")).strip()
        if not value:
            raise PermanentError("Set the channel's Kiyoh location id.")
        return value

    def _call(self, method: str, path: str, *, write: bool = False, **kwargs: Any) -> Any:
        body = json_call(
            method,
            f"{self.host}{path}",
            platform=PLATFORM,
            write=write,
            session=self.session,
            headers={"X-Publication-Api-Token": self.credential("api_token")},
            **kwargs,
        )
        # Public integrations check for an error code inside a successful answer too.
        if isinstance(body, dict) and body.get("errorCode") and "reviews" not in body:
            code = str(body.get("errorCode"))
            detailed = body.get("detailedError")
            detail = ""
            if isinstance(detailed, list) and detailed and isinstance(detailed[0], dict):
                detail = str(detailed[0].get("message") or "")
            message = f"{PLATFORM}: {code} {detail}".strip()
            if any(word in code.upper() for word in ("TOKEN", "AUTH", "PERMISSION", "ACCESS")):
                raise AuthError(message, code=code)
            raise PermanentError(message, code=code)
        return body

    def _listing(self, params: dict[str, Any]) -> dict[str, Any]:
        body = self._call(
            "GET",
            "/v1/publication/review/external",
            params={"locationId": self.location_id, "tenantId": self.tenant, **params},
        )
        if not isinstance(body, dict) or not isinstance(body.get("reviews", []), list):
            raise MalformedPage("Kiyoh's review listing has no list of reviews.")
        return body

    # --- platform hooks -----------------------------------------------------------------------
    def list_page(self, *, page: str | int | None, since: dt.datetime) -> ReviewPage:
        limit = self.page_size(DEFAULT_PAGE_SIZE, 1000)
        body = self._listing(
            {
                "updatedSince": since.astimezone(dt.UTC).isoformat(timespec="milliseconds"),
                "orderBy": "UPDATE_DATE",
                "sortOrder": "ASC",
                "limit": limit,
            }
        )
        reviews = body.get("reviews") or []
        return ReviewPage(reviews=reviews, next_page="more" if len(reviews) >= limit else None)

    def parse_review(self, raw: Any) -> Review:
        if not isinstance(raw, dict):
            raise MalformedReview("not a JSON object")
        review_id = str(raw.get("reviewId") or "")
        created = parse_time(raw.get("dateSince"))
        updated = parse_time(raw.get("updatedSince")) or created
        if not review_id:
            raise MalformedReview("no reviewId", sort_time=updated)
        if created is None or updated is None:
            raise MalformedReview("no dateSince", review_id=review_id, sort_time=updated)
        answers = _content(raw)
        score = answers.get("DEFAULT_OVERALL", raw.get("rating"))
        try:
            stars = stars_from_ten(score)
        except (TypeError, ValueError):
            raise MalformedReview(
                f"rating {score!r} is not a score out of 10", review_id=review_id, sort_time=updated
            ) from None
        title = str(answers.get("DEFAULT_ONELINER") or "").strip()
        opinion = str(answers.get("DEFAULT_OPINION") or "").strip()
        text = f"{title}\n\n{opinion}" if title and opinion else (opinion or title)
        name = str(raw.get("reviewAuthor") or "").strip()
        city = str(raw.get("city") or "").strip()
        # Kiyoh gives reviewers no id: each review's author is its own identity.
        author = InboundAuthor(
            platform_user_id=f"reviewer-of:{review_id}",
            display_name=f"{name} ({city})" if name and city else name or city,
        )
        reply = None
        if str(raw.get("reviewComments") or "").strip():
            # The listing gives no time for our response (see the doc).
            reply = ReviewReply(text=str(raw["reviewComments"]))
        return Review(
            id=review_id,
            rating=stars,
            text=text,
            created_at=created,
            updated_at=max(updated, created),
            author=author,
            reply=reply,
            language=str(raw.get("reviewLanguage") or "")[:8],
            raw={**raw, "rating_out_of_10": score},
        )

    def get_review(self, review_id: str) -> Review | None:
        body = self._listing(
            {"orderBy": "UPDATE_DATE", "sortOrder": "DESC", "limit": LOOKUP_WINDOW}
        )
        for raw in body.get("reviews") or []:
            if isinstance(raw, dict) and str(raw.get("reviewId")) == review_id:
                return self.parse_or_refuse(raw)
        raise OutcomeUnknown(
            f"Kiyoh has no call to read one review and it is not among the {LOOKUP_WINDOW} "
            "most recently changed reviews."
        )

    def post_reply(self, review_id: str, text: str) -> ReviewReply | None:
        self._call(
            "PUT",
            "/v1/publication/review/response",
            write=True,
            json={
                "locationId": self.location_id,
                "tenantId": self.tenant,
                "reviewId": review_id,
                "response": text,
                "reviewResponseType": "PUBLIC",
            },
        )
        return None

    def test_connection(self) -> ConnectionInfo:
        body = self._listing({"limit": 1})
        return ConnectionInfo(
            account_id=self.location_id,
            display_name=str(body.get("locationName") or ""),
            detail=(
                f"{body.get('numberReviews', 0)} reviews, "
                f"average {body.get('averageRating', '-')} out of 10"
            ),
        )

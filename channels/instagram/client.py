"""graph.instagram.com through facebook-sdk, with the Facebook connector's error policy.

The Instagram API with Instagram Login answers like the Graph API (same ``{"error": {...}}``
shape, same codes), only on another host. facebook-sdk 3.1.0 hard-codes
``https://graph.facebook.com/`` (``FACEBOOK_GRAPH_URL``) in ``GraphAPI.request``; the session
below sends those requests to ``https://graph.instagram.com/`` instead, so every call still goes
through the library and through ``channels.facebook.client`` (error translation, paging, times).

The library does not expose response headers. Meta reports rate-limit usage in them
(``X-App-Usage``, ``X-Business-Use-Case-Usage``): a response hook on the same session reads them
into :attr:`InstagramSession.usage`, which the connector checks to back off before the limit.
"""

from __future__ import annotations

import json
import logging
from typing import Any

import facebook
import requests
from django.conf import settings

from ..facebook import client as graph_client
from ..facebook.client import (  # noqa: F401 (re-exported)
    delete,
    get,
    pages,
    parse_time,
    post,
    sent_id,
)

log = logging.getLogger(__name__)

INSTAGRAM_GRAPH_URL = "https://graph.instagram.com/"
PLATFORM = "Instagram"


class InstagramSession(requests.Session):
    """A session that sends facebook-sdk's requests to graph.instagram.com and remembers the
    usage Meta reported on the last answer (percentages, 0-100)."""

    def __init__(self) -> None:
        super().__init__()
        self.usage: dict[str, Any] = {}
        self.hooks["response"].append(self._read_usage)

    def request(self, method, url, *args, **kwargs):
        if isinstance(url, str) and url.startswith(facebook.FACEBOOK_GRAPH_URL):
            url = INSTAGRAM_GRAPH_URL + url[len(facebook.FACEBOOK_GRAPH_URL) :]
        return super().request(method, url, *args, **kwargs)

    def _read_usage(self, response: requests.Response, *args: Any, **kwargs: Any) -> None:
        found = usage_from_headers(response.headers)
        if found:
            self.usage = found


def graph_api(access_token: str) -> facebook.GraphAPI:
    graph = facebook.GraphAPI(
        access_token=access_token,
        timeout=graph_client.GRAPH_TIMEOUT,
        session=InstagramSession(),
    )
    graph.version = settings.GRAPH_API_VERSION
    # Read by channels.facebook.client: errors and timeouts name Instagram, not Facebook.
    graph.platform_label = PLATFORM
    return graph


def usage_from_headers(headers: Any) -> dict[str, Any]:
    """The highest usage percentage Meta reported and how long until access is regained.

    ``X-App-Usage``: ``{"call_count": %, "total_cputime": %, "total_time": %}``.
    ``X-Business-Use-Case-Usage``: ``{"<account id>": [{"type": "instagram", "call_count": %,
    "total_cputime": %, "total_time": %, "estimated_time_to_regain_access": minutes}]}``.
    Malformed headers count as absent (they are Meta's, not ours to trust).
    """
    percents: list[float] = []
    regain = 0
    app = _json(headers.get("X-App-Usage"))
    if isinstance(app, dict):
        percents.extend(_percents(app))
    business = _json(headers.get("X-Business-Use-Case-Usage"))
    if isinstance(business, dict):
        for entries in business.values():
            for entry in entries if isinstance(entries, list) else []:
                if isinstance(entry, dict):
                    percents.extend(_percents(entry))
                    minutes = entry.get("estimated_time_to_regain_access")
                    if isinstance(minutes, int | float) and minutes > regain:
                        regain = int(minutes)
    if not percents and not regain:
        return {}
    return {"percent": max(percents or [0]), "regain_minutes": regain}


def _json(value: Any) -> Any:
    if not value:
        return None
    try:
        return json.loads(value)
    except (TypeError, ValueError, RecursionError):
        return None


def _percents(entry: dict[str, Any]) -> list[float]:
    return [
        float(v)
        for k in ("call_count", "total_cputime", "total_time")
        if isinstance(v := entry.get(k), int | float)
    ]


def refresh_token(access_token: str) -> dict[str, Any]:
    """``GET /refresh_access_token?grant_type=ig_refresh_token``: a new long-lived token, valid
    60 days (``expires_in`` seconds). Unversioned path, as Meta documents it."""
    graph = graph_api(access_token)
    return graph_client.call(
        graph.request,
        "refresh_access_token",
        {"grant_type": "ig_refresh_token", "access_token": access_token},
        platform=PLATFORM,
    )

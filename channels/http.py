"""One HTTP JSON call with a timeout, its failures turned into the connector's typed errors.

Connectors that speak plain HTTP (the review sites) share this so that every platform's 401,
429, 5xx and timeout means the same thing to ``channels.health`` and ``inbox.replies.delivery``:

- no connection made (connect timeout, refused) → :class:`TemporaryError`, for reads and writes:
  nothing reached the platform;
- timeout or dropped connection after the request left → :class:`TemporaryError` for a read,
  :class:`OutcomeUnknown` for a write (the platform may have posted it; delivery looks first);
- 401/403 → :class:`AuthError` with the platform's own message;
- 429 → :class:`RateLimited`, until ``Retry-After`` when the platform sends it;
- 5xx (and 408) → :class:`TemporaryError`;
- any other 4xx → :class:`PermanentError` with the platform's message;
- a 2xx whose body is not JSON (a proxy's HTML page) → :class:`TemporaryError`.
"""

from __future__ import annotations

import datetime as dt
import email.utils
from collections.abc import Callable
from typing import Any

import requests
from django.utils import timezone

from .base import AuthError, OutcomeUnknown, PermanentError, RateLimited, TemporaryError

# (connect, read) seconds. Every call has a timeout: a hanging platform must not hold a worker
# past the task's time limit.
DEFAULT_TIMEOUT: tuple[float, float] = (5.0, 30.0)
MESSAGE_LIMIT = 300


def platform_message(response: requests.Response) -> str:
    """The platform's own words for an error, from the usual JSON shapes; else the status text.

    Shapes seen: Google ``{"error": {"code", "message", "status"}}``, OAuth token endpoints
    ``{"error": "invalid_grant", "error_description": ...}``, Trustpilot ``{"message": ...}``,
    Kiyoh ``{"errorCode": ..., "detailedError": [{"message": ...}]}``.
    """
    try:
        body = response.json()
    except ValueError:
        body = None
    message = ""
    if isinstance(body, dict):
        error = body.get("error")
        detailed = body.get("detailedError")
        if isinstance(error, dict):
            message = str(error.get("message") or error.get("status") or "")
        elif isinstance(error, str):
            message = str(body.get("error_description") or error)
        elif isinstance(detailed, list) and detailed and isinstance(detailed[0], dict):
            message = str(detailed[0].get("message") or detailed[0].get("errorCode") or "")
        if not message:
            message = str(body.get("message") or body.get("errorCode") or "")
    if not message:
        message = response.reason or ""
    return f"{response.status_code} {message}".strip()[:MESSAGE_LIMIT]


def retry_after(response: requests.Response, now: dt.datetime | None = None) -> dt.datetime | None:
    """When ``Retry-After`` (seconds or an HTTP date) lets us back in, if the platform said."""
    value = (response.headers.get("Retry-After") or "").strip()
    if not value:
        return None
    now = now or timezone.now()
    if value.isdigit():
        return now + dt.timedelta(seconds=int(value))
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return max(when, now)


def check_response(
    response: requests.Response,
    *,
    platform: str,
    describe: Callable[[requests.Response], str] = platform_message,
) -> Any:
    """Return the JSON body of a 2xx answer (``{}`` when empty); raise the typed error otherwise."""
    status = response.status_code
    if 200 <= status < 300:
        if not response.content or not response.content.strip():
            return {}
        try:
            return response.json()
        except ValueError:
            raise TemporaryError(
                f"{platform} answered {status} with a body that is not JSON."
            ) from None
    message = f"{platform}: {describe(response)}"
    if status in (401, 403):
        raise AuthError(message, code=status)
    if status == 429:
        raise RateLimited(message, until=retry_after(response), code=status)
    if status >= 500 or status == 408:
        raise TemporaryError(message, code=status)
    raise PermanentError(message, code=status)


def json_call(
    method: str,
    url: str,
    *,
    platform: str,
    write: bool = False,
    session: requests.Session | None = None,
    timeout: tuple[float, float] = DEFAULT_TIMEOUT,
    describe: Callable[[requests.Response], str] = platform_message,
    **kwargs: Any,
) -> Any:
    """Make one call and return its JSON body. ``write`` marks a call that changes something on
    the platform (post a reply): losing its answer means the outcome is unknown, not retryable."""
    http = session or requests
    try:
        response = http.request(method, url, timeout=timeout, **kwargs)
    except requests.ConnectTimeout as exc:
        raise TemporaryError(f"{platform}: could not connect ({type(exc).__name__}).") from exc
    except (requests.Timeout, requests.ConnectionError) as exc:
        if write:
            raise OutcomeUnknown(
                f"{platform}: no answer to {method} after sending it ({type(exc).__name__}); "
                "it may or may not have been posted."
            ) from exc
        raise TemporaryError(f"{platform}: no answer ({type(exc).__name__}).") from exc
    except requests.RequestException as exc:
        raise TemporaryError(f"{platform}: request failed ({type(exc).__name__}).") from exc
    return check_response(response, platform=platform, describe=describe)

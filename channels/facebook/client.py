"""The Graph API through facebook-sdk 3.1.0, with every failure turned into a typed error.

What the library does, read from its source (``facebook/__init__.py`` of 3.1.0), and what that
means here:

- ``GraphAPI(version=...)`` accepts only "2.8".."3.1", all retired by Meta. We construct it
  without a version and set ``graph.version`` (``settings.GRAPH_API_VERSION``, e.g. "v25.0")
  afterwards; requests go to ``https://graph.facebook.com/<version>/<path>``.
- ``request()`` never looks at the HTTP status. It raises ``GraphAPIError`` only when a JSON body
  has an ``"error"`` key (``.code``, ``.type``, ``.message``; the whole body, with
  ``error_subcode``, in ``.result``). A non-JSON body (an HTML 502 page from a proxy) raises a
  ``GraphAPIError`` with ``code=None`` and the message "Maintype was not text, image, or
  querystring". Network errors come through as ``requests`` exceptions, unwrapped.
- ``put_object`` sends ``post_args`` form-encoded; a nested dict would be flattened to its keys,
  so ``recipient`` and ``message`` are JSON-encoded here before they go in.
- ``get_all_connections`` does ``del args["access_token"]`` on the next page's query, which fails
  when the ``paging.next`` URL does not carry the token. We page ourselves with the ``after``
  cursor instead (:func:`pages`).
"""

from __future__ import annotations

import datetime as dt
import http.cookiejar
import json
import logging
import os
import threading
from collections.abc import Callable, Iterator
from typing import Any

import facebook
import requests
from django.conf import settings

from channels.payload import child

from ..base import AuthError, OutcomeUnknown, PermanentError, RateLimited, TemporaryError

log = logging.getLogger(__name__)

# Graph error -> one of our typed errors (``translate`` and the WhatsApp client's own).
Translator = Callable[..., Exception]

GRAPH_TIMEOUT = 20  # seconds; Celery's soft limit is 90

# https://developers.facebook.com/docs/graph-api/guides/error-handling and the Messenger
# Platform's error codes page (docs/channels/facebook.md).
RATE_LIMIT_CODES = {4, 17, 32, 341, 613} | set(range(80001, 80015))
TEMPORARY_CODES = {1, 2}
AUTH_CODES = {102, 190}
PERMISSION_CODES = {3, 10} | set(range(200, 300))
DEPRECATED_CODE = 12
OUTSIDE_WINDOW_SUBCODE = 2018278
# Instagram's Send API answers a DM outside its window with this subcode
# (docs/channels/instagram.md).
IG_OUTSIDE_WINDOW_SUBCODE = 2534022
TOKEN_SUBCODES = {
    458: "the app is no longer installed for this account",
    459: "the account is checkpointed: log in on facebook.com to fix it",
    460: "the password was changed",
    463: "the token has expired",
    464: "the account is not confirmed",
    467: "the token is invalid (logged out or revoked)",
    492: "the user lost their role on the Page",
}


def graph_api(access_token: str) -> facebook.GraphAPI:
    graph = facebook.GraphAPI(
        access_token=access_token, timeout=GRAPH_TIMEOUT, session=thread_session()
    )
    # The constructor rejects current versions; the attribute is what request() uses.
    graph.version = settings.GRAPH_API_VERSION
    return graph


_threads = threading.local()


def thread_session() -> requests.Session:
    """This thread's HTTP session for the Graph API, kept for the life of the thread (of the
    process after a fork: a child never shares its parent's sockets). Its calls reuse one
    connection to Meta instead of a new TLS handshake per client, and the environment's proxy
    and CA bundle settings are read once, when it is made: requests reads them on every request
    otherwise (``os.environ`` walked twice per call, a fifth of a WhatsApp send's CPU). The token
    travels with each call, never in the session; cookies are not kept."""
    found = getattr(_threads, "session", None)
    if found is not None and found[0] == os.getpid():
        return found[1]
    session = requests.Session()
    session.proxies = requests.utils.get_environ_proxies(facebook.FACEBOOK_GRAPH_URL)
    session.verify = (
        os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE") or True
    )
    session.trust_env = False  # read above, once
    session.cookies.set_policy(http.cookiejar.DefaultCookiePolicy(allowed_domains=[]))
    _threads.session = (os.getpid(), session)
    return session


# Meta's published Graph API versions: (introduced, available until; None while Meta says
# "TBD"). Source: the Graph API changelog's "Available Graph API versions" table,
# https://developers.facebook.com/docs/graph-api/changelog (and /changelog/versions/), read
# 2026-12-07. Update it when Meta publishes a new version or an end date.
GRAPH_VERSIONS: dict[str, tuple[dt.date, dt.date | None]] = {
    "v26.0": (dt.date(2026, 7, 29), None),
    "v25.0": (dt.date(2026, 2, 18), dt.date(2028, 7, 29)),
    "v24.0": (dt.date(2025, 10, 8), dt.date(2028, 2, 18)),
    "v23.0": (dt.date(2025, 5, 29), dt.date(2027, 10, 8)),
    "v22.0": (dt.date(2025, 1, 21), dt.date(2027, 5, 20)),
    "v21.0": (dt.date(2024, 10, 2), dt.date(2027, 1, 21)),
    "v20.0": (dt.date(2024, 5, 21), dt.date(2026, 9, 24)),
    "v19.0": (dt.date(2024, 1, 23), dt.date(2026, 5, 21)),
    "v18.0": (dt.date(2023, 9, 12), dt.date(2026, 1, 26)),
    "v17.0": (dt.date(2023, 5, 23), dt.date(2025, 9, 12)),
    "v16.0": (dt.date(2023, 2, 2), dt.date(2025, 5, 14)),
}
VERSION_WARN_DAYS = 90


def version_warning(version: str, today: dt.date) -> str:
    """What an admin must know about the configured Graph version, or "": past Meta's end date,
    within VERSION_WARN_DAYS of it, or a version this table does not know."""
    known = GRAPH_VERSIONS.get(version)
    if known is None:
        return (
            f"Graph API {version} is not in Webcare's table of Meta's versions: check "
            "GRAPH_API_VERSION against https://developers.facebook.com/docs/graph-api/changelog."
        )
    ends = known[1]
    if ends is None:
        return ""
    newest = max(GRAPH_VERSIONS, key=lambda v: GRAPH_VERSIONS[v][0])
    if ends <= today:
        return (
            f"Graph API {version} reached its end of life on {ends:%Y-%m-%d}: Meta answers it "
            f"with the oldest available version. Set GRAPH_API_VERSION to {newest}."
        )
    if (ends - today).days <= VERSION_WARN_DAYS:
        return (
            f"Graph API {version} ends on {ends:%Y-%m-%d} ({(ends - today).days} days): "
            f"set GRAPH_API_VERSION to {newest} before then."
        )
    return ""


def api_version_number() -> float:
    """ "v21.0" -> 21.0, for features that end at a given version (page ratings)."""
    try:
        return float(settings.GRAPH_API_VERSION.lstrip("v"))
    except ValueError:
        return 0.0


def error_details(exc: facebook.GraphAPIError) -> dict[str, Any]:
    result = exc.result if isinstance(exc.result, dict) else {}
    error = child(result, "error")
    return {
        "code": exc.code,
        "subcode": error.get("error_subcode"),
        "type": exc.type,
        "message": error.get("error_user_msg") or error.get("message") or str(exc.message),
        "transient": bool(error.get("is_transient")),
        "fbtrace_id": error.get("fbtrace_id", ""),
    }


def translate(
    exc: facebook.GraphAPIError, *, sending: bool = False, platform: str = "Facebook"
) -> Exception:
    """One policy for what a Graph error means (see docs/channels/facebook.md).

    ``platform`` names whose API answered ("Facebook", or "Instagram" for graph.instagram.com,
    which answers with the same error shape and codes): admins read it in channel health."""
    info = error_details(exc)
    code, subcode, message = info["code"], info["subcode"], info["message"]
    if code is None and not _has_error_body(exc):
        # No JSON error body: an HTML page or plain text from Meta's edge (502, 503, 504).
        return TemporaryError(
            f"{platform} answered with a non-JSON page (a server or proxy error); "
            "trying again later."
        )
    if code is None:
        # A JSON error without a code: Meta's own words are all there is to go on.
        kind = f" ({info['type']})" if info["type"] else ""
        label = f"{platform} error{kind}"
        if info["transient"]:
            return TemporaryError(f"{label}: {message}")
        return PermanentError(f"{label}: {message}")
    label = f"{platform} error {code}" + (f"/{subcode}" if subcode else "")
    if code in AUTH_CODES:
        reason = TOKEN_SUBCODES.get(subcode, "")
        text = f"{label}: {message}" + (f" ({reason})" if reason else "")
        what = "the Page" if platform == "Facebook" else f"the {platform} account"
        return AuthError(f"Reconnect {what}: {text}", code=code)
    if code in RATE_LIMIT_CODES:
        return RateLimited(f"{label}: Meta rate limit reached: {message}", code=code)
    if code == 10 and subcode == IG_OUTSIDE_WINDOW_SUBCODE:
        return PermanentError(
            "Outside Instagram's 24-hour reply window: Meta refuses a normal DM more than 24 "
            "hours after the customer's last message. Where the app is approved for it, reply "
            f"with the HUMAN_AGENT tag (up to 7 days). [{label}: {message}]",
            code=code,
        )
    if code == 10 and subcode == OUTSIDE_WINDOW_SUBCODE:
        return PermanentError(
            "Outside Messenger's 24-hour reply window: Meta refuses a normal reply more than 24 "
            "hours after the customer's last message. Where the Page is approved for it, reply "
            f"with the HUMAN_AGENT tag (up to 7 days). [{label}: {message}]",
            code=code,
        )
    if code in TEMPORARY_CODES or info["transient"]:
        return TemporaryError(f"{label}: {message}", code=code)
    if code in PERMISSION_CODES and not sending:
        # Reading without a permission fails every poll the same way: an admin must act.
        return AuthError(f"Permission missing or removed: {label}: {message}", code=code)
    return PermanentError(f"{label}: {message}", code=code)


def _has_error_body(exc: facebook.GraphAPIError) -> bool:
    """Whether Meta answered with a JSON error object (``{"error": {...}}``), as opposed to the
    library's stand-in for a body it could not read (``result`` is then a plain string)."""
    result = exc.result
    return isinstance(result, dict) and isinstance(result.get("error"), dict)


def call(
    func,
    *args: Any,
    sending: bool = False,
    translator: Translator | None = None,
    platform: str = "Facebook",
    **kwargs: Any,
) -> Any:
    """Run one Graph call; raise only our typed errors.

    For a send (``sending=True``) a timeout after the request left may mean it was posted:
    that is :class:`OutcomeUnknown`, so delivery looks for it before posting again.
    ``translator`` replaces :func:`translate` for a Meta product with codes of its own
    (WhatsApp's, ``channels.whatsapp.client``); ``platform`` names the API in messages
    (Instagram's graph.instagram.com answers with Facebook's codes).
    """
    try:
        return func(*args, **kwargs)
    except facebook.GraphAPIError as exc:
        if translator is not None:
            raise translator(exc, sending=sending) from exc
        raise translate(exc, sending=sending, platform=platform) from exc
    except requests.exceptions.ConnectTimeout as exc:
        raise TemporaryError(f"Could not reach {platform}: {exc}") from exc
    except (requests.exceptions.Timeout, requests.exceptions.ConnectionError) as exc:
        if sending:
            raise OutcomeUnknown(f"{platform} did not answer in time: {exc}") from exc
        raise TemporaryError(f"{platform} did not answer in time: {exc}") from exc
    except (ValueError, KeyError) as exc:
        # A body claiming JSON that is not, or a response without a content type.
        raise TemporaryError(f"Unreadable answer from {platform}: {exc!r}") from exc
    except requests.exceptions.RequestException as exc:
        raise TemporaryError(f"Request to {platform} failed: {exc}") from exc


def _platform(graph: facebook.GraphAPI) -> str:
    # Set on the Instagram client (channels.instagram.client); Facebook's otherwise.
    return getattr(graph, "platform_label", "Facebook")


def get(
    graph: facebook.GraphAPI, path: str, *, translator: Translator | None = None, **args: Any
) -> dict[str, Any]:
    return call(
        graph.request,
        f"{graph.version}/{path}",
        args,
        translator=translator,
        platform=_platform(graph),
    )


def post(
    graph: facebook.GraphAPI,
    path: str,
    *,
    translator: Translator | None = None,
    files: dict[str, Any] | None = None,
    **data: Any,
) -> dict[str, Any]:
    """POST form fields; dicts and lists are JSON-encoded (the library would flatten them).
    ``files`` (name → (filename, file, content type)) makes it a multipart upload."""
    fields = {k: json.dumps(v) if isinstance(v, dict | list) else v for k, v in data.items()}
    return call(
        graph.request,
        f"{graph.version}/{path}",
        post_args=fields,
        files=files,
        sending=True,
        translator=translator,
        platform=_platform(graph),
    )


def delete(graph: facebook.GraphAPI, path: str) -> dict[str, Any]:
    """DELETE an object (a comment); the answer is ``{"success": true}``."""
    return call(
        graph.request,
        f"{graph.version}/{path}",
        method="DELETE",
        sending=True,
        platform=_platform(graph),
    )


def sent_id(
    result: Any, *, key: str = "id", what: str = "the reply", platform: str = "Facebook"
) -> str:
    """The platform id in a send's answer (``id`` of a comment, ``message_id`` of a message).
    An answer without one may still mean it was posted: the outcome is unknown, so delivery
    looks for it before trying again."""
    ident = str((result or {}).get(key) or "") if isinstance(result, dict) else ""
    if not ident:
        raise OutcomeUnknown(f"{platform} accepted {what} but returned no id.")
    return ident


def pages(
    graph: facebook.GraphAPI, path: str, *, max_pages: int, **args: Any
) -> Iterator[tuple[list[dict[str, Any]], int]]:
    """Yield (items, calls so far) page by page, following ``paging.cursors.after``."""
    calls = 0
    args = dict(args)
    while calls < max_pages:
        page = get(graph, path, **args)
        calls += 1
        yield list(page.get("data") or []), calls
        paging = page.get("paging") or {}
        after = (paging.get("cursors") or {}).get("after")
        if not paging.get("next") or not after:
            return
        args["after"] = after


def parse_time(value: Any) -> dt.datetime | None:
    """Graph times ("2026-11-20T10:15:00+0000") and webhook times (epoch s or ms)."""
    if value is None or value == "":
        return None
    if isinstance(value, int | float):
        seconds = value / 1000 if value > 10**11 else value
        return dt.datetime.fromtimestamp(seconds, tz=dt.UTC)
    text = str(value)
    if text.isdigit():
        return parse_time(int(text))
    for fmt in ("%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%dT%H:%M:%S.%f%z"):
        try:
            return dt.datetime.strptime(text, fmt)  # noqa: DTZ007 - both formats end in %z
        except ValueError:
            continue
    try:
        parsed = dt.datetime.fromisoformat(text)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)

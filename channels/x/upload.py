"""Reply media to X through API v2 ``POST /2/media/upload`` (facts and sources: docs/channels/x.md).

tweepy 4.17 has no v2 upload method and its ``Client.request`` sends JSON only, so the multipart
requests go out here, through the connector's tweepy ``Client``: its session (with our timeouts)
and tweepy's own OAuth 1.0a user-context handler (requests-oauthlib, which tweepy depends on),
exactly as tweepy signs a ``user_auth`` call. Non-2xx answers become tweepy's own exceptions, so
``client.call`` maps them to ours like any other X call.

- Photos: one simple upload, ``media`` plus ``media_category`` (``tweet_image``/``dm_image``).
- Video and GIFs: ``command=INIT`` (``media_type``, ``total_bytes``, ``media_category``),
  ``APPEND`` per chunk (``media_id``, ``segment_index``, ``media``), ``FINALIZE``; while the
  answer carries ``processing_info`` in ``pending``/``in_progress``, ``GET ...?command=STATUS``
  after ``check_after_secs``. ``failed`` ends the send with X's reason.

An uploaded file is visible to no one until a post names it: a retry that uploads again posts
nothing twice.
"""

from __future__ import annotations

import time
from typing import Any

import requests
import tweepy

from ..base import AuthError, OutboundAttachment, PermanentError, TemporaryError
from . import client as x_client

UPLOAD_URL = "https://api.x.com/2/media/upload"
# APPEND chunks: X takes at most 5 MB a chunk and segment_index 0-999.
CHUNK_BYTES = 4 * 1024 * 1024
# The longest we wait for X to process a video before trying the whole send again later.
PROCESSING_WAIT = 300
UPLOAD_TIMEOUT = (x_client.CONNECT_TIMEOUT, 120)
_sleep = time.sleep


def category(attachment: OutboundAttachment, where: str) -> str:
    """``where`` is ``tweet`` or ``dm``: tweet_image, tweet_gif, tweet_video, dm_image, ..."""
    if attachment.kind == "video":
        return f"{where}_video"
    if attachment.mime_type == "image/gif":
        return f"{where}_gif"
    return f"{where}_image"


def upload(client: tweepy.Client, attachment: OutboundAttachment, where: str, **call: Any) -> str:
    """Upload one file; its media id. ``call``: extra arguments for ``client.call``."""
    kind = category(attachment, where)
    with attachment.open() as handle:
        if kind.endswith("_image"):
            files = {"media": (attachment.name, handle, attachment.mime_type)}
            data = _post(client, {"media_category": kind}, files, **call)
            return _ready(client, data, **call)
        data = _post(
            client,
            {
                "command": "INIT",
                "media_type": attachment.mime_type,
                "total_bytes": str(attachment.size),
                "media_category": kind,
            },
            **call,
        )
        media_id = _media_id(data)
        segment = 0
        while chunk := handle.read(CHUNK_BYTES):
            fields = {"command": "APPEND", "media_id": media_id, "segment_index": str(segment)}
            _post(client, fields, {"media": ("blob", chunk, "application/octet-stream")}, **call)
            segment += 1
    data = _post(client, {"command": "FINALIZE", "media_id": media_id}, **call)
    return _ready(client, data, **call)


def _ready(client: tweepy.Client, data: dict[str, Any], **call: Any) -> str:
    """The media id once X has processed the file (at once for photos)."""
    media_id = _media_id(data)
    waited = 0.0
    while True:
        info = data.get("processing_info") or {}
        state = info.get("state")
        if state in (None, "succeeded"):
            return media_id
        if state == "failed":
            error = info.get("error") or {}
            reason = error.get("message") or error.get("name") or "no reason given"
            raise PermanentError(f"X could not process the file: {reason}")
        wait = max(1.0, float(info.get("check_after_secs") or 1))
        if waited + wait > PROCESSING_WAIT:
            raise TemporaryError("X is still processing the file; the reply is tried again.")
        _sleep(wait)
        waited += wait
        params = {"command": "STATUS", "media_id": media_id}
        data = x_client.call(_request, client, "GET", params=params, **call)


def _post(
    client: tweepy.Client, fields: dict[str, str], files: dict | None = None, **call: Any
) -> dict[str, Any]:
    # Every part goes as multipart/form-data, as X's examples send them (curl -F).
    parts: dict[str, Any] = {k: (None, v) for k, v in fields.items()}
    parts.update(files or {})
    return x_client.call(_request, client, "POST", files=parts, **call)


def _media_id(data: dict[str, Any]) -> str:
    media_id = str(data.get("id") or "")
    if not media_id:
        raise TemporaryError("X accepted the upload but returned no media id.")
    return media_id


def _request(client: tweepy.Client, method: str, **kwargs: Any) -> dict[str, Any]:
    """One signed request; X's ``data`` object. Errors as tweepy raises them for its calls."""
    if not all((client.consumer_key, client.consumer_secret, client.access_token)):
        raise AuthError("Sending media on X needs the account's access token and secret.")
    auth = tweepy.OAuth1UserHandler(
        client.consumer_key,
        client.consumer_secret,
        client.access_token,
        client.access_token_secret,
    ).apply_auth()
    headers = {"User-Agent": client.user_agent}
    response = client.session.request(
        method, UPLOAD_URL, auth=auth, headers=headers, timeout=UPLOAD_TIMEOUT, **kwargs
    )
    _raise_for(response)
    if not response.content:  # APPEND answers 2xx with an empty body
        return {}
    body = response.json()
    return body.get("data") or {} if isinstance(body, dict) else {}


def _raise_for(response: requests.Response) -> None:
    """tweepy's mapping of a status to its exception (tweepy/client.py, BaseClient.request)."""
    status = response.status_code
    if 200 <= status < 300:
        return
    if status == 429:
        reset = response.headers.get("x-rate-limit-reset")
        raise tweepy.TooManyRequests(response, reset_time=int(reset) if reset else None)
    errors = {
        400: tweepy.BadRequest,
        401: tweepy.Unauthorized,
        403: tweepy.Forbidden,
        404: tweepy.NotFound,
    }
    if status in errors:
        raise errors[status](response)
    if status >= 500:
        raise tweepy.TwitterServerError(response)
    raise tweepy.HTTPException(response)

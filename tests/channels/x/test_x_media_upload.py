"""Reply media go to X through API v2 ``POST /2/media/upload``: one request for a photo, the
INIT/APPEND/FINALIZE commands (and STATUS while X processes) for video and GIFs.

Response shapes, as X documents them:

- Simple upload: ``{"data": {"id", "media_key", "expires_after_secs", "size", ...}}``,
  ``media_category`` tweet_image / dm_image: https://docs.x.com/x-api/media/upload-media
- Chunked: INIT answers ``{"data": {"id", "media_key", "expires_after_secs"}}``, APPEND an empty
  2xx, FINALIZE and STATUS ``data`` with ``processing_info`` (``state`` pending → in_progress →
  succeeded | failed, ``check_after_secs``, ``progress_percent``):
  https://docs.x.com/x-api/media/quickstart/media-upload-chunked and
  https://docs.x.com/x-api/media/get-media-upload-status
- A failed ``processing_info`` carries ``error`` ``{code, name, message}``:
  https://developer.x.com/en/docs/twitter-api/v1/media/upload-media/api-reference/get-media-upload-status
- Errors are problem objects ``{"title", "detail", "type", "status"}``:
  https://docs.x.com/x-api/fundamentals/response-codes-and-errors
"""

from __future__ import annotations

import json
import re
from dataclasses import replace

import pytest
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from responses import matchers

from channels.base import PermanentError
from channels.tasks import poll_channel
from channels.x import upload as x_upload
from inbox.models import DeliveryState, Ticket
from inbox.replies.delivery import message_deliver
from inbox.replies.services import reply_send
from tests.channels.media_support import stored
from tests.media_cdn import jpeg

from .conftest import MENTIONS, TWEETS, load, make_x_channel

pytestmark = pytest.mark.django_db

UPLOAD = "https://api.x.com/2/media/upload"
MEDIA_ID = "1880028106020515840"
VIDEO = b"\x00\x00\x00\x18ftypmp42" + b"v" * 28  # 40 bytes: 3 chunks of 16


def _data(**extra) -> dict:
    return {"data": {"id": MEDIA_ID, "media_key": f"13_{MEDIA_ID}", **extra}}


def _command(request) -> str:
    found = re.search(rb'name="command"\r\n\r\n(\w+)', request.body or b"")
    return found.group(1).decode() if found else "SIMPLE"


class FakeUpload:
    """X's upload endpoint: answers each command as documented, and records what it got."""

    def __init__(self, api, finalize: dict, statuses: tuple[dict, ...] = ()):
        self.commands: list[str] = []
        self.finalize = finalize
        api.add_callback("POST", UPLOAD, callback=self.post)
        for status in statuses:
            api.get(UPLOAD, json=status, match=[matchers.query_param_matcher(
                {"command": "STATUS", "media_id": MEDIA_ID})])  # fmt: skip

    def post(self, request):
        command = _command(request)
        self.commands.append(command)
        if command == "INIT":
            return 202, {}, json.dumps(_data(expires_after_secs=1295999))
        if command == "APPEND":
            return 204, {}, ""
        return 200, {}, json.dumps(self.finalize)


@pytest.fixture
def no_waiting(monkeypatch):
    waits: list[float] = []
    monkeypatch.setattr(x_upload, "_sleep", waits.append)
    monkeypatch.setattr(x_upload, "CHUNK_BYTES", 16)
    return waits


def _reply(**kwargs):
    from channels.base import OutboundReply

    return OutboundReply(
        message_id=1, idempotency_key="k", text="Here you go", mode="public",
        thread_key="conv:1870000000000000101", ticket_kind="mention",
        in_reply_to="1870000000000000101", **kwargs,
    )  # fmt: skip


def test_a_photo_is_one_signed_v2_upload_named_in_the_post(api, media_storage):
    photo = stored("label.png", b"\x89PNG\r\n\x1a\n" + b"p" * 60, "image/png", "image")
    upload = api.post(UPLOAD, json=_data(size=68, expires_after_secs=86400))
    post = api.post(TWEETS, json=load("create_tweet.json"))
    make_x_channel().connector().send(_reply(attachments=(photo,)))
    sent = upload.calls[0].request
    assert sent.headers["Authorization"].startswith("OAuth ")
    assert b'name="media_category"\r\n\r\ntweet_image' in sent.body
    assert b'filename="label.png"' in sent.body
    assert json.loads(post.calls[0].request.body)["media"] == {"media_ids": [MEDIA_ID]}


def test_a_video_goes_in_chunks_and_waits_for_x_to_process_it(api, media_storage, no_waiting):
    video = stored("unboxing.mp4", VIDEO, "video/mp4", "video")
    processing = _data(processing_info={"state": "pending", "check_after_secs": 5})
    fake = FakeUpload(api, processing, statuses=(
        _data(processing_info={"state": "in_progress", "check_after_secs": 10,
                               "progress_percent": 40}),
        _data(processing_info={"state": "succeeded", "progress_percent": 100}),
    ))  # fmt: skip
    post = api.post(TWEETS, json=load("create_tweet.json"))
    make_x_channel().connector().send(_reply(attachments=(video,)))
    assert fake.commands == ["INIT", "APPEND", "APPEND", "APPEND", "FINALIZE"]
    assert no_waiting == [5, 10]
    init = api.calls[0].request.body
    assert b"tweet_video" in init and b'name="total_bytes"\r\n\r\n40' in init
    assert json.loads(post.calls[0].request.body)["media"] == {"media_ids": [MEDIA_ID]}


def test_a_video_x_cannot_process_fails_with_xs_reason_and_posts_nothing(
    api, media_storage, no_waiting
):
    video = stored("broken.mp4", VIDEO, "video/mp4", "video")
    FakeUpload(api, _data(processing_info={"state": "in_progress", "check_after_secs": 1}),
               statuses=(_data(processing_info={"state": "failed", "progress_percent": 12,
                   "error": {"code": 1, "name": "InvalidMedia",
                             "message": "Unsupported video format"}}),))  # fmt: skip
    post = api.post(TWEETS, json=load("create_tweet.json"))
    with pytest.raises(PermanentError, match="Unsupported video format"):
        make_x_channel().connector().send(_reply(attachments=(video,)))
    assert post.call_count == 0


def test_a_dm_gif_uses_the_dm_category(api, media_storage, no_waiting):
    gif = stored("wave.gif", b"GIF89a" + b"g" * 10, "image/gif", "image")
    FakeUpload(api, _data())
    api.post(re.compile(r".*/dm_conversations/.*/messages"), json=load("create_dm.json"))
    reply = replace(_reply(attachments=(gif,)), mode="dm", thread_key="dm:2244994945-1")
    make_x_channel().connector().send(reply)
    assert b"dm_gif" in api.calls[0].request.body


# --- through the outbox: what the agent sees ----------------------------------------------


@pytest.fixture
def mention(api, media_storage):
    channel = make_x_channel()
    page = load("mentions_page1.json")
    page["meta"].pop("next_token")
    api.get(MENTIONS, json=page)
    poll_channel(channel.pk)
    api.reset()
    return Ticket.objects.get(thread_key="conv:1860000000000000010")


def _photo_reply(ticket):
    agent = get_user_model().objects.create_user("anna", password="x")
    photo = SimpleUploadedFile("box.jpg", jpeg(), content_type="image/jpeg")
    return reply_send(ticket_id=ticket.pk, user=agent, text="Like this?", files=[photo])


def test_a_refused_upload_fails_the_reply_with_xs_words(api, mention):
    api.post(UPLOAD, status=400, json={
        "title": "Invalid Request", "detail": "One or more parameters to your request was invalid.",
        "type": "https://api.twitter.com/2/problems/invalid-request", "status": 400,
    })  # fmt: skip
    post = api.post(TWEETS, json=load("create_tweet.json"))
    message = _photo_reply(mention)
    assert message_deliver(message_id=message.pk) == "failed"
    message.refresh_from_db()
    assert message.delivery_state == DeliveryState.FAILED
    assert "One or more parameters to your request was invalid." in message.failure_reason
    assert post.call_count == 0


def test_a_reply_with_a_photo_is_posted_once_however_often_it_is_delivered(api, mention):
    upload = api.post(UPLOAD, json=_data(size=1000, expires_after_secs=86400))
    post = api.post(TWEETS, status=201, json=load("create_tweet.json"))
    message = _photo_reply(mention)
    assert message_deliver(message_id=message.pk) == "sent"
    assert message_deliver(message_id=message.pk) != "sent"
    message.refresh_from_db()
    assert message.delivery_state == DeliveryState.SENT
    assert (upload.call_count, post.call_count) == (1, 1)
    assert json.loads(post.calls[0].request.body)["media"] == {"media_ids": [MEDIA_ID]}

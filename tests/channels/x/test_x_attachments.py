"""What customers attach on X becomes attachments; replies carry photos and video.

Payload shapes (sources also in docs/channels/x.md, "Media"):

- v2 posts and DM events with ``attachments.media_keys`` and ``includes.media`` (fields
  ``media_key``, ``type`` photo/video/animated_gif, ``url`` for photos, ``preview_image_url``,
  ``alt_text``, ``width``/``height``, ``duration_ms``, ``variants[]`` of ``bit_rate``,
  ``content_type``, ``url``); the media link in ``entities.urls[]`` carries ``media_key``:
  https://developer.x.com/en/docs/x-api/data-dictionary/object-model/media and
  https://docs.x.com/x-api/fundamentals/data-dictionary
- Account Activity v1.1 tweets with ``extended_entities.media[]`` (``id_str``,
  ``media_url_https``, ``url``, ``type``, ``ext_alt_text``, ``video_info.variants[]`` with
  ``bitrate``) and DMs with ``message_data.attachment`` ``{type: "media", media: {...}}``:
  https://developer.x.com/en/docs/x-api/v1/data-dictionary/object-model/extended-entities and
  https://developer.x.com/en/docs/x-api/v1/direct-messages/message-attachments/guides/attaching-media
- Media upload (v2 ``POST /2/media/upload``: ``data.id``, ``media_category`` tweet_image /
  dm_image ...): https://docs.x.com/x-api/media/upload-media (more in test_x_media_upload.py)
  ; posting it: ``POST /2/tweets`` ``media.media_ids``, ``POST /2/dm_conversations/.../messages``
  ``attachments[].media_id``.

Times inside the payloads are past dates that nothing compares with the clock.
"""

from __future__ import annotations

import copy
import json

import pytest
from responses import matchers

from channels.base import OutboundAttachment, OutboundReply, PermanentError, media_url_allowed
from channels.x import normalize
from channels.x.connector import XConnector
from channels.x.webhook import webhook_items
from tests.channels.media_support import PNG, stored

from .conftest import API, DM_EVENTS, MENTIONS, OWN_ID, TWEETS, load, make_x_channel

pytestmark = pytest.mark.django_db

UPLOAD = "https://api.x.com/2/media/upload"
PHOTO_KEY = "3_1870000000000000500"
VIDEO_KEY = "7_1870000000000000600"

PHOTO_POST = {
    "data": [
        {
            "id": "1870000000000000101",
            "edit_history_tweet_ids": ["1870000000000000101"],
            "text": "@acme_care My parcel arrived like this https://t.co/AbCdEf1234",
            "author_id": "2244994945",
            "conversation_id": "1870000000000000101",
            "created_at": "2026-11-20T09:15:02.000Z",
            "attachments": {"media_keys": [PHOTO_KEY]},
            "entities": {
                "mentions": [{"start": 0, "end": 10, "username": "acme_care", "id": OWN_ID}],
                "urls": [
                    {
                        "start": 39,
                        "end": 62,
                        "url": "https://t.co/AbCdEf1234",
                        "expanded_url": "https://x.com/jan_de_vries/status/1870000000000000101/photo/1",
                        "display_url": "pic.x.com/AbCdEf1234",
                        "media_key": PHOTO_KEY,
                    }
                ],
            },
        }
    ],
    "includes": {
        "media": [
            {
                "media_key": PHOTO_KEY,
                "type": "photo",
                "url": "https://pbs.twimg.com/media/GdAbCdEfGhIjK.jpg",
                "width": 1200,
                "height": 900,
                "alt_text": "A parcel with a crushed corner",
            }
        ],
        "users": [{"id": "2244994945", "name": "Jan de Vries", "username": "jan_de_vries"}],
    },
    "meta": {
        "newest_id": "1870000000000000101",
        "oldest_id": "1870000000000000101",
        "result_count": 1,
    },
}

VIDEO = {
    "media_key": VIDEO_KEY,
    "type": "video",
    "preview_image_url": "https://pbs.twimg.com/ext_tw_video_thumb/1870000000000000600/pu/img/a.jpg",
    "duration_ms": 12400,
    "width": 1280,
    "height": 720,
    "variants": [
        {
            "content_type": "application/x-mpegURL",
            "url": "https://video.twimg.com/ext_tw_video/1870000000000000600/pu/pl/a.m3u8?tag=12",
        },
        {
            "bit_rate": 832000,
            "content_type": "video/mp4",
            "url": "https://video.twimg.com/ext_tw_video/1870000000000000600/pu/vid/640x360/b.mp4?tag=12",
        },
        {
            "bit_rate": 2176000,
            "content_type": "video/mp4",
            "url": "https://video.twimg.com/ext_tw_video/1870000000000000600/pu/vid/1280x720/c.mp4?tag=12",
        },
    ],
}


def _items(page):
    return normalize.tweets_page_to_items(page, own_id=OWN_ID, source="mentions")


# --- inbound: polls ---------------------------------------------------------------------------
def test_a_photo_post_carries_the_photo_with_its_alt_text():
    (item,) = _items(PHOTO_POST)
    (photo,) = item.attachments
    assert photo.kind == "image"
    assert photo.url == "https://pbs.twimg.com/media/GdAbCdEfGhIjK.jpg"
    assert photo.alt_text == "A parcel with a crushed corner"
    assert photo.external_id == PHOTO_KEY
    assert photo.detail == {"width": 1200, "height": 900}


def test_the_media_link_x_appends_is_not_part_of_the_customers_text():
    (item,) = _items(PHOTO_POST)
    assert item.text == "@acme_care My parcel arrived like this"


def test_a_photo_only_post_has_no_placeholder_text():
    page = copy.deepcopy(PHOTO_POST)
    page["data"][0]["text"] = "https://t.co/AbCdEf1234"
    page["data"][0]["entities"]["mentions"] = []
    (item,) = _items(page)
    assert item.text == ""
    assert len(item.attachments) == 1


def test_a_video_is_its_highest_bit_rate_mp4_with_the_preview_image():
    page = copy.deepcopy(PHOTO_POST)
    page["data"][0]["attachments"] = {"media_keys": [VIDEO_KEY]}
    page["includes"]["media"] = [VIDEO]
    (item,) = _items(page)
    (video,) = item.attachments
    assert video.kind == "video"
    assert video.url.endswith("/1280x720/c.mp4?tag=12")
    assert video.mime_type == "video/mp4"
    assert video.preview_url == VIDEO["preview_image_url"]
    assert video.detail["duration_ms"] == 12400


def test_an_animated_gif_is_a_gif_attachment():
    page = copy.deepcopy(PHOTO_POST)
    gif = {
        "media_key": "16_1870000000000000700",
        "type": "animated_gif",
        "preview_image_url": "https://pbs.twimg.com/tweet_video_thumb/GdGif.jpg",
        "variants": [
            {
                "bit_rate": 0,
                "content_type": "video/mp4",
                "url": "https://video.twimg.com/tweet_video/GdGif.mp4",
            }
        ],
    }
    page["data"][0]["attachments"] = {"media_keys": [gif["media_key"]]}
    page["includes"]["media"] = [gif]
    (item,) = _items(page)
    assert [(a.kind, a.url) for a in item.attachments] == [
        ("gif", "https://video.twimg.com/tweet_video/GdGif.mp4")
    ]


def test_a_media_key_missing_from_includes_is_skipped_not_an_error():
    page = copy.deepcopy(PHOTO_POST)
    page["includes"].pop("media")
    (item,) = _items(page)
    assert item.attachments == ()


def test_the_poll_asks_x_for_the_media_expansion_and_fields(api):
    channel = make_x_channel()
    api.get(
        MENTIONS,
        json=PHOTO_POST,
        match=[
            matchers.query_param_matcher(
                {
                    "expansions": "author_id,referenced_tweets.id,in_reply_to_user_id,"
                    "attachments.media_keys",
                    "media.fields": "url,preview_image_url,alt_text,type,width,height,variants",
                },
                strict_match=False,
            )
        ],
    )
    result = channel.connector().fetch({})
    assert [a.external_id for a in result.items[0].attachments] == [PHOTO_KEY]


def test_a_polled_dm_with_media_carries_the_photo(api):
    channel = make_x_channel(settings={})
    page = load("dm_events.json")
    event = page["data"][0]
    event["text"] = "Here is the label https://t.co/DmLabel99"
    event["attachments"] = {"media_keys": [PHOTO_KEY]}
    page.setdefault("includes", {})["media"] = PHOTO_POST["includes"]["media"]
    api.get(MENTIONS, json=load("empty_page.json"))
    api.get(
        DM_EVENTS,
        json=page,
        match=[
            matchers.query_param_matcher(
                {"expansions": "sender_id,attachments.media_keys"}, strict_match=False
            )
        ],
    )
    items = channel.connector().fetch({}).items
    found = next(i for i in items if i.external_id == str(event["id"]))
    assert found.text == "Here is the label"
    assert [a.kind for a in found.attachments] == ["image"]


# --- inbound: webhooks --------------------------------------------------------------------
def _v1_photo_tweet():
    payload = load("webhook_tweet_create.json")
    tweet = payload["tweet_create_events"][0]
    tweet["text"] = "@acme_care Thanks, but look at the box https://t.co/AbCdEf1234"
    tweet["extended_entities"] = {
        "media": [
            {
                "id": 1870000000000000500,
                "id_str": "1870000000000000500",
                "indices": [39, 62],
                "media_url_https": "https://pbs.twimg.com/media/GdAbCdEfGhIjK.jpg",
                "url": "https://t.co/AbCdEf1234",
                "display_url": "pic.x.com/AbCdEf1234",
                "expanded_url": "https://x.com/jan_de_vries/status/1860000000000000030/photo/1",
                "type": "photo",
                "ext_alt_text": "A parcel with a crushed corner",
                "sizes": {"large": {"w": 1200, "h": 900, "resize": "fit"}},
            }
        ]
    }
    return payload


def test_an_account_activity_photo_has_the_same_media_key_as_the_poll():
    (item,) = webhook_items(_v1_photo_tweet(), own_id=OWN_ID)
    (photo,) = item.attachments
    assert photo.external_id == PHOTO_KEY
    assert photo.url == "https://pbs.twimg.com/media/GdAbCdEfGhIjK.jpg"
    assert photo.alt_text == "A parcel with a crushed corner"
    assert item.text == "@acme_care Thanks, but look at the box"


def test_an_account_activity_video_takes_the_best_bitrate_variant():
    payload = _v1_photo_tweet()
    media = payload["tweet_create_events"][0]["extended_entities"]["media"][0]
    media.update(
        type="video",
        id_str="1870000000000000600",
        media_url_https="https://pbs.twimg.com/ext_tw_video_thumb/1870000000000000600/pu/img/a.jpg",
        video_info={
            "aspect_ratio": [16, 9],
            "duration_millis": 12400,
            "variants": [
                {
                    "bitrate": 832000,
                    "content_type": "video/mp4",
                    "url": VIDEO["variants"][1]["url"],
                },
                {"content_type": "application/x-mpegURL", "url": VIDEO["variants"][0]["url"]},
                {
                    "bitrate": 2176000,
                    "content_type": "video/mp4",
                    "url": VIDEO["variants"][2]["url"],
                },
            ],
        },
    )
    (item,) = webhook_items(payload, own_id=OWN_ID)
    (video,) = item.attachments
    assert (video.kind, video.external_id) == ("video", VIDEO_KEY)
    assert video.url == VIDEO["variants"][2]["url"]
    assert video.preview_url == media["media_url_https"]


def test_an_account_activity_dm_with_media_carries_the_photo():
    payload = load("webhook_dm.json")
    data = payload["direct_message_events"][0]["message_create"]["message_data"]
    data["text"] = "The label https://t.co/DmLabel99"
    data["attachment"] = {
        "type": "media",
        "media": {
            "id": 1870000000000000800,
            "id_str": "1870000000000000800",
            "media_url_https": "https://ton.twitter.com/1.1/ton/data/dm/1860000000000000110/1870000000000000800/AbC.jpg",
            "url": "https://t.co/DmLabel99",
            "type": "photo",
        },
    }
    (item,) = webhook_items(payload, own_id=OWN_ID)
    assert item.text == "The label"
    (photo,) = item.attachments
    assert photo.external_id == "3_1870000000000000800"
    assert photo.url.startswith("https://ton.twitter.com/1.1/ton/data/dm/")


def test_an_x_activity_api_post_with_includes_media_carries_the_photo():
    payload = load("xaa_post_mention_create.json")
    post = payload["data"]["payload"]
    post["attachments"] = {"media_keys": [PHOTO_KEY]}
    payload["data"].setdefault("includes", {})["media"] = PHOTO_POST["includes"]["media"]
    (item,) = webhook_items(payload, own_id=OWN_ID)
    assert [a.external_id for a in item.attachments] == [PHOTO_KEY]


# --- downloading -------------------------------------------------------------------------
def test_post_media_is_fetched_without_credentials_and_dm_media_with_a_signature():
    connector = make_x_channel().connector()
    (item,) = _items(PHOTO_POST)
    assert connector.media_request(item.attachments[0]).headers == {}
    dm_photo = webhook_items(_v1_dm_with_photo(), own_id=OWN_ID)[0].attachments[0]
    request = connector.media_request(dm_photo)
    assert request.headers["Authorization"].startswith("OAuth ")
    assert 'oauth_consumer_key="ck-acme"' in request.headers["Authorization"]


def _v1_dm_with_photo():
    payload = load("webhook_dm.json")
    data = payload["direct_message_events"][0]["message_create"]["message_data"]
    data["attachment"] = {
        "type": "media",
        "media": {
            "id_str": "1870000000000000800",
            "media_url_https": "https://ton.twitter.com/1.1/ton/data/dm/1/2/AbC.jpg",
            "type": "photo",
        },
    }
    return payload


def test_only_xs_media_hosts_are_allowed_for_downloads():
    assert media_url_allowed(XConnector, "https://pbs.twimg.com/media/a.jpg")
    assert media_url_allowed(XConnector, "https://video.twimg.com/ext_tw_video/1/b.mp4")
    assert not media_url_allowed(XConnector, "http://pbs.twimg.com/media/a.jpg")
    assert not media_url_allowed(XConnector, "https://pbs.twimg.com.evil.example/a.jpg")
    assert not media_url_allowed(XConnector, "https://127.0.0.1/a.jpg")


# --- outbound ---------------------------------------------------------------------------
def _reply(**kwargs) -> OutboundReply:
    defaults = {
        "message_id": 1,
        "idempotency_key": "k-1",
        "text": "Could you send the order number?",
        "mode": "public",
        "thread_key": "conv:1870000000000000101",
        "ticket_kind": "mention",
        "in_reply_to": "1870000000000000101",
        "recipient_id": "2244994945",
    }
    defaults.update(kwargs)
    return OutboundReply(**defaults)


def test_a_reply_with_a_photo_uploads_it_and_names_it_in_the_post(api, media_storage):
    photo = stored("label.png", PNG, "image/png", "image")
    api.post(
        UPLOAD,
        json={
            "data": {
                "id": "710511363345354753",
                "media_key": "3_710511363345354753",
                "size": 72,
                "expires_after_secs": 86400,
            }
        },
    )
    api.post(TWEETS, json=load("create_tweet.json"))
    result = make_x_channel().connector().send(_reply(attachments=(photo,)))
    assert result.external_id == "1860000000000000300"
    body = json.loads(api.calls[-1].request.body)
    assert body["media"] == {"media_ids": ["710511363345354753"]}
    assert body["reply"] == {"in_reply_to_tweet_id": "1870000000000000101"}
    assert b"tweet_image" in api.calls[0].request.body


def test_a_dm_with_a_photo_sends_the_uploaded_media_id(api, media_storage):
    photo = stored("label.png", PNG, "image/png", "image")
    api.post(
        UPLOAD, json={"data": {"id": "710511363345354754", "media_key": "3_710511363345354754"}}
    )
    dm_send = f"{API}/dm_conversations/2244994945-{OWN_ID}/messages"
    api.post(dm_send, json=load("create_dm.json"))
    reply = _reply(mode="dm", thread_key=f"dm:2244994945-{OWN_ID}", attachments=(photo,))
    result = make_x_channel().connector().send(reply)
    assert result.external_id == "1860000000000000400"
    body = json.loads(api.calls[-1].request.body)
    assert body["attachments"] == [{"media_id": "710511363345354754"}]
    assert b"dm_image" in api.calls[0].request.body


def test_a_video_beside_a_photo_is_refused_before_anything_is_uploaded(api):
    video = OutboundAttachment(
        name="a.mp4", mime_type="video/mp4", size=10, kind="video", storage_name="x"
    )
    photo = OutboundAttachment(
        name="b.png", mime_type="image/png", size=10, kind="image", storage_name="y"
    )
    with pytest.raises(PermanentError, match="one video or GIF"):
        make_x_channel().connector().send(_reply(attachments=(video, photo)))
    assert len(api.calls) == 0


def test_a_file_type_x_does_not_take_is_refused_with_the_reason(api):
    pdf = OutboundAttachment(
        name="invoice.pdf", mime_type="application/pdf", size=10, kind="file", storage_name="x"
    )
    with pytest.raises(PermanentError, match="cannot send a file"):
        make_x_channel().connector().send(_reply(attachments=(pdf,)))
    assert len(api.calls) == 0


def test_a_retried_photo_reply_is_found_on_x_with_its_media_link_not_posted_again(api):
    import datetime as dt

    from django.utils import timezone

    queued = timezone.now()
    photo = OutboundAttachment(
        name="b.png", mime_type="image/png", size=10, kind="image", storage_name="y"
    )
    timeline = load("users_tweets_own.json")
    tweet = timeline["data"][0]
    tweet["referenced_tweets"][0]["id"] = "1870000000000000101"
    tweet["text"] = "@jan_de_vries Could you send the order number? https://t.co/Media123"
    tweet["created_at"] = (queued + dt.timedelta(seconds=2)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    api.get(f"{API}/users/{OWN_ID}/tweets", json=timeline)
    found = make_x_channel().connector().find_sent(_reply(attachments=(photo,), created_at=queued))
    assert found is not None and found.external_id == str(tweet["id"])
    assert not any(c.request.method == "POST" for c in api.calls)

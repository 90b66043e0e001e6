"""Facebook Page: photos, albums, videos, stickers, GIFs and shared links as attachments; a photo
on a comment reply.

Payload shapes, each from Meta's documentation (also in docs/channels/facebook.md, "Attachments"):

- Story attachments, read as a comment's ``attachment`` and a post's ``attachments`` (fields
  ``type``, ``media_type``, ``media{image{src, width, height}, source}``, ``target{id, url}``,
  ``title``, ``description``, ``url``, ``unshimmed_url``, ``subattachments``):
  https://developers.facebook.com/docs/graph-api/reference/story-attachment/ and the Comment
  reference's ``attachment`` field: https://developers.facebook.com/docs/graph-api/reference/comment/
- Page ``feed`` webhook values (``photo``, ``photos[]``, ``video``, ``link``, ``item`` share):
  https://developers.facebook.com/docs/graph-api/webhooks/reference/page/
- Publishing a comment with a photo: ``POST /{object-id}/comments`` with ``message`` and
  ``source`` (form data) or ``attachment_url``:
  https://developers.facebook.com/docs/graph-api/reference/object/comments/

Times inside the payloads are past dates that nothing compares with the clock.
"""

from __future__ import annotations

import pytest
import responses
from django.utils import timezone

from channels.base import OutboundAttachment, OutboundReply, PermanentError
from channels.facebook import normalize
from tests.channels.facebook.support import C1, PAGE_ID, POST_ID, graph, load, page_channel
from tests.channels.media_support import PNG, stored

pytestmark = pytest.mark.django_db

PHOTO_SRC = (
    "https://scontent.xx.fbcdn.net/v/t39.30808-6/470000001_1_n.jpg"
    "?stp=dst-jpg_s720x720&_nc_cat=1&oh=00_AYC&oe=67A1B2C6"
)


def photo(fbid: str, src: str = PHOTO_SRC) -> dict:
    return {
        "media": {"image": {"height": 720, "src": src, "width": 960}},
        "target": {"id": fbid, "url": f"https://www.facebook.com/photo.php?fbid={fbid}"},
        "type": "photo",
        "url": f"https://www.facebook.com/photo.php?fbid={fbid}",
    }


def comment(**changes) -> dict:
    base = {
        "id": "900000000000001_1110000000000099",
        "from": {"id": "7001000000000001", "name": "Sanne Bakker"},
        "created_time": "2026-11-20T10:00:00+0000",
        "permalink_url": "https://www.facebook.com/acme/posts/900000000000001?comment_id=1",
    }
    base.update(changes)
    return base


def test_a_comment_photo_is_an_image_attachment_and_no_placeholder():
    found = normalize.comment_item(
        comment(attachment=photo("470000001")), page_id=PAGE_ID, post_id=POST_ID
    )
    assert found.text == ""
    (image,) = found.attachments
    assert (image.kind, image.url, image.external_id) == ("image", PHOTO_SRC, "470000001")
    assert image.detail == {"height": 720, "width": 960}


def test_a_comment_sticker_is_a_sticker():
    sticker = {
        "media": {
            "image": {
                "height": 240,
                "src": "https://scontent.xx.fbcdn.net/v/t39.1997-6/p240x240/851587_sticker_n.png",
                "width": 240,
            }
        },
        "target": {"id": "126361874215276", "url": "https://www.facebook.com/126361874215276"},
        "type": "sticker",
        "url": "https://www.facebook.com/126361874215276",
    }
    found = normalize.comment_item(comment(attachment=sticker), page_id=PAGE_ID, post_id=POST_ID)
    (att,) = found.attachments
    assert att.kind == "sticker" and att.external_id == "126361874215276"


def test_a_comment_gif_is_a_gif_fetched_from_its_still_on_metas_cdn():
    gif = {
        "media": {
            "image": {
                "height": 200,
                "src": "https://external.xx.fbcdn.net/emg1/v/t13/4567/gif_still.gif",
                "width": 356,
            }
        },
        "target": {"url": "https://l.facebook.com/l.php?u=https%3A%2F%2Fmedia.giphy.com%2Fa.gif"},
        "type": "animated_image_share",
        "url": "https://l.facebook.com/l.php?u=https%3A%2F%2Fmedia.giphy.com%2Fa.gif",
    }
    found = normalize.comment_item(
        comment(message="Me waiting", attachment=gif), page_id=PAGE_ID, post_id=POST_ID
    )
    (att,) = found.attachments
    assert att.kind == "gif" and att.url.startswith("https://external.xx.fbcdn.net/")
    assert found.text == "Me waiting"


def test_a_visitor_album_post_has_each_photo_of_the_album():
    post = {
        "id": f"{PAGE_ID}_900000000000031",
        "from": {"id": "7001000000000020", "name": "Lotte Vos"},
        "created_time": "2026-11-24T09:00:00+0000",
        "status_type": "added_photos",
        "attachments": {
            "data": [
                {
                    "media": {"image": {"height": 720, "src": PHOTO_SRC, "width": 960}},
                    "target": {"id": "470000010", "url": "https://www.facebook.com/media/set/"},
                    "title": "Photos from Lotte Vos's post",
                    "type": "album",
                    "url": "https://www.facebook.com/media/set/?set=pcb.900000000000031",
                    "subattachments": {
                        "data": [photo("470000011"), photo("470000012"), photo("470000013")]
                    },
                }
            ]
        },
    }
    found = normalize.visitor_post_item(post, page_id=PAGE_ID)
    assert found.text == ""
    assert [a.external_id for a in found.attachments] == ["470000011", "470000012", "470000013"]


def test_a_polled_video_post_is_a_video_with_its_still():
    post = {
        "id": f"{PAGE_ID}_900000000000032",
        "from": {"id": "7001000000000020", "name": "Lotte Vos"},
        "message": "Listen to this noise",
        "created_time": "2026-11-24T09:00:00+0000",
        "attachments": {
            "data": [
                {
                    "media": {
                        "image": {"height": 720, "src": PHOTO_SRC, "width": 1280},
                        "source": "https://video.xx.fbcdn.net/v/t42.1790-2/470000020_n.mp4?oe=1",
                    },
                    "media_type": "video",
                    "target": {"id": "470000020", "url": "https://www.facebook.com/watch/?v=1"},
                    "type": "video_inline",
                    "url": "https://www.facebook.com/watch/?v=470000020",
                }
            ]
        },
    }
    (video,) = normalize.visitor_post_item(post, page_id=PAGE_ID).attachments
    assert video.kind == "video" and video.url.startswith("https://video.xx.fbcdn.net/")
    assert video.preview_url == PHOTO_SRC


def test_a_shared_link_in_a_feed_webhook_is_a_link_card():
    value = load("webhook_feed_share.json")["entry"][0]["changes"][0]["value"]
    found = normalize.feed_change(value, page_id=PAGE_ID)
    assert found.text == "You should read this"
    (card,) = found.attachments
    assert card.kind == "link"
    assert card.detail["url"] == "https://www.example.org/review-of-the-blue-coat"


def test_a_feed_webhook_photo_post_carries_its_photo():
    value = load("webhook_feed_photo_post.json")["entry"][0]["changes"][0]["value"]
    found = normalize.feed_change(value, page_id=PAGE_ID, entry_time=1795171800)
    assert found.attachments and all(a.kind == "image" for a in found.attachments)


def test_the_poll_asks_for_story_attachments_of_posts_and_comments():
    from channels.facebook.polling import COMMENT_FIELDS, POST_FIELDS

    assert "attachment{type,media_type,media," in COMMENT_FIELDS
    assert "subattachments" in POST_FIELDS


# --- outbound ---------------------------------------------------------------------------
def reply(*attachments) -> OutboundReply:
    return OutboundReply(
        message_id=5,
        idempotency_key="msg-5",
        text="This is how it should look",
        mode="public",
        thread_key=f"comment:{C1}",
        ticket_kind="comment",
        in_reply_to=C1,
        created_at=timezone.now(),
        attachments=attachments,
    )


@responses.activate
def test_a_comment_reply_with_a_photo_posts_it_once_as_source(media_storage):
    image = stored("how-it-should-look.png", PNG, "image/png", "image")
    responses.post(graph(f"{C1}/comments"), json=load("comment_reply_ok.json"))
    result = page_channel().connector().send(reply(image))
    (call,) = responses.calls
    assert b'name="source"; filename="how-it-should-look.png"' in call.request.body
    assert b"This is how it should look" in call.request.body
    assert result.external_id == load("comment_reply_ok.json")["id"]


def test_a_comment_reply_takes_one_photo_only():
    two = tuple(
        OutboundAttachment(
            name=f"{n}.png", mime_type="image/png", size=9, kind="image", storage_name="x"
        )
        for n in "ab"
    )
    with responses.RequestsMock() as mock:
        with pytest.raises(PermanentError, match="at most 1 attachment"):
            page_channel().connector().send(reply(*two))
        assert len(mock.calls) == 0

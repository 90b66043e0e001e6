"""A message edited to carry a new photo (an X post edited to add one, a Facebook comment edited
with a photo) gains that attachment, stored and fetched once; a replay adds nothing.

Shapes: X v2 mentions pages with ``edit_history_tweet_ids`` and ``attachments.media_keys`` /
``includes.media`` (https://docs.x.com/x-api/fundamentals/data-dictionary,
developer.x.com/en/docs/x-api/edit-tweets); a Page ``feed`` webhook change for a comment with
``verb: "edited"`` and its ``photo`` (https://developers.facebook.com/docs/graph-api/webhooks/reference/page/#feed).
"""

from __future__ import annotations

import copy

import pytest
from django.test import TestCase

from channels.facebook.normalize import feed_change
from channels.tasks import poll_channel
from inbox.ingest.services import ingest_batch
from inbox.media import ingest as media_ingest
from inbox.models import Attachment, Message
from tests.channels.facebook.support import C3, PAGE_ID, page_channel
from tests.channels.facebook.support import load as fb_load
from tests.channels.x.conftest import MENTIONS, api, make_x_channel  # noqa: F401 - a fixture
from tests.channels.x.conftest import load as x_load

pytestmark = pytest.mark.django_db

ORIGINAL = "2123733088465850514"
PHOTO_KEY = "3_2123734095098810000"
META_PHOTO = "https://scontent.xx.fbcdn.net/v/t39.30808-6/470000009_1_n.jpg"


@pytest.fixture
def queued(monkeypatch):
    """The attachment ids handed to the fetch task, per batch."""
    batches: list[list[int]] = []
    monkeypatch.setattr(media_ingest, "_queue", batches.append)
    return batches


def _x_edit_with_photo() -> dict:
    page = x_load("mention_edited.json")
    page["data"][0]["attachments"] = {"media_keys": [PHOTO_KEY]}
    page["includes"]["media"] = [
        {"media_key": PHOTO_KEY, "type": "photo",
         "url": "https://pbs.twimg.com/media/GeDitPhoto1.jpg", "alt_text": "The torn label"}
    ]  # fmt: skip
    return page


def _poll(api, channel, page: dict) -> None:  # noqa: F811
    api.reset()
    api.get(MENTIONS, json=page)
    with TestCase.captureOnCommitCallbacks(execute=True):
        poll_channel(channel.pk)


def test_an_x_post_edited_to_add_a_photo_gains_it_and_its_fetch(api, queued):  # noqa: F811
    channel = make_x_channel()
    _poll(api, channel, x_load("mention_original.json"))
    _poll(api, channel, _x_edit_with_photo())
    message = Message.objects.get(channel=channel)
    (photo,) = Attachment.objects.filter(message=message)
    assert (photo.kind, photo.external_id, photo.alt_text, photo.state) == (
        "image", PHOTO_KEY, "The torn label", "pending",
    )  # fmt: skip
    assert queued == [[photo.pk]]
    assert message.attachment_count == 1 and message.ticket.attachment_count == 1


def test_the_same_x_edit_again_stores_and_fetches_nothing_more(api, queued):  # noqa: F811
    channel = make_x_channel()
    _poll(api, channel, x_load("mention_original.json"))
    _poll(api, channel, _x_edit_with_photo())
    _poll(api, channel, _x_edit_with_photo())
    message = Message.objects.get(channel=channel)
    assert Attachment.objects.filter(message=message).count() == 1
    assert len(queued) == 1
    assert message.attachment_count == 1 and message.ticket.attachment_count == 1


def _comment(verb: str, photo: str | None = None) -> dict:
    value = copy.deepcopy(fb_load("webhook_comment_edited.json")["entry"][0]["changes"][0]["value"])
    value["verb"] = verb
    if photo:
        value["photo"] = photo
    return value


def _deliver(channel, value: dict) -> None:
    with TestCase.captureOnCommitCallbacks(execute=True):
        ingest_batch(channel_id=channel.pk, items=[feed_change(value, page_id=PAGE_ID)])


def test_a_facebook_comment_edited_with_a_photo_gains_it(queued):
    channel = page_channel()
    _deliver(channel, _comment("add"))
    _deliver(channel, _comment("edited", f"{META_PHOTO}?_nc_cat=1&oh=00_AYC&oe=67A1B2C6"))
    message = Message.objects.get(external_id=C3)
    (photo,) = Attachment.objects.filter(message=message)
    assert photo.kind == "image" and photo.url.startswith(META_PHOTO)
    assert queued == [[photo.pk]]
    assert message.attachment_count == 1 and message.ticket.attachment_count == 1


def test_the_edit_redelivered_with_a_freshly_signed_link_adds_nothing(queued):
    channel = page_channel()
    _deliver(channel, _comment("add"))
    _deliver(channel, _comment("edited", f"{META_PHOTO}?_nc_cat=1&oh=00_AYC&oe=67A1B2C6"))
    _deliver(channel, _comment("edited", f"{META_PHOTO}?_nc_cat=1&oh=00_BZD&oe=67A1C3D7"))
    message = Message.objects.get(external_id=C3)
    assert Attachment.objects.filter(message=message).count() == 1
    assert len(queued) == 1
    assert message.ticket.attachment_count == 1

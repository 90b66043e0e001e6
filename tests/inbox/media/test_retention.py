"""Retention: stored media older than MEDIA_RETENTION_DAYS is deleted (the rows stay and say
so), and admins see how much storage each channel's media takes."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.core.files.storage import storages
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from channels.base import InboundAttachment
from inbox.ingest.services import ingest_batch
from inbox.media import services
from inbox.models import Attachment
from tests.channels.facebook.support import messenger_channel
from tests.factories import item
from tests.media_cdn import Route, jpeg
from tests.personas import person

pytestmark = pytest.mark.django_db


def stored_photo(channel, cdn, external_id: str) -> Attachment:
    cdn.routes[f"/{external_id}.jpg"] = Route(content_type="image/jpeg", body=jpeg())
    ingest_batch(
        channel_id=channel.pk,
        items=[
            item(
                external_id,
                thread=external_id,
                attachments=(InboundAttachment(kind="image", url=cdn.url(f"/{external_id}.jpg")),),
            )
        ],
    )
    row = Attachment.objects.get(message__external_id=external_id)
    services.attachment_fetch(attachment_id=row.pk)
    row.refresh_from_db()
    return row


def test_media_older_than_the_retention_is_deleted_and_the_thread_says_so(cdn, settings):
    settings.MEDIA_RETENTION_DAYS = 30
    channel = messenger_channel()
    now = timezone.now()
    with time_machine.travel(now - dt.timedelta(days=31)):
        old = stored_photo(channel, cdn, "old")
    recent = stored_photo(channel, cdn, "new")
    call_command("media_expire")
    old.refresh_from_db()
    recent.refresh_from_db()
    assert (old.state, old.reason, old.storage_name) == ("deleted", "deleted after 30 days", "")
    assert recent.state == "stored"
    media = storages["media"]
    assert media.exists(recent.storage_name)
    assert len(list(cdn_files(media))) == 2  # the recent photo and its thumbnail


def cdn_files(media, path="attachments"):
    directories, files = media.listdir(path)
    for name in files:
        yield f"{path}/{name}"
    for directory in directories:
        yield from cdn_files(media, f"{path}/{directory}")


def test_retention_off_deletes_nothing(cdn, settings):
    settings.MEDIA_RETENTION_DAYS = 0
    channel = messenger_channel()
    with time_machine.travel(timezone.now() - dt.timedelta(days=3000)):
        old = stored_photo(channel, cdn, "old")
    assert services.media_expire() == 0
    old.refresh_from_db()
    assert old.state == "stored"


def test_the_beat_task_runs_the_same_deletion(cdn, settings):
    from inbox.media.tasks import media_expire

    settings.MEDIA_RETENTION_DAYS = 7
    with time_machine.travel(timezone.now() - dt.timedelta(days=8)):
        old = stored_photo(messenger_channel(), cdn, "old")
    assert media_expire() == 1
    old.refresh_from_db()
    assert old.state == "deleted"


def test_an_admin_sees_the_storage_a_channels_media_uses(client, cdn):
    channel = messenger_channel()
    stored_photo(channel, cdn, "a")
    stored_photo(channel, cdn, "b")
    client.force_login(person("ada", "admin"))
    page = client.get(reverse("channels:edit", args=[channel.pk])).content.decode()
    size = 2 * len(jpeg())
    from django.template.defaultfilters import filesizeformat

    assert f"2 files, {filesizeformat(size)}" in page

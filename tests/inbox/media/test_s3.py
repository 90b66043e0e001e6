"""The media storage as an S3-compatible object store (production: MEDIA_S3_BUCKET), tested
against a real S3 HTTP server started here (moto in server mode on 127.0.0.1), not a mock of
boto3: the bytes go over HTTP through django-storages as they would to MinIO or AWS."""

from __future__ import annotations

import datetime as dt

import boto3
import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from channels.base import InboundAttachment
from inbox.ingest.services import ingest_batch
from inbox.media import services
from inbox.models import Attachment, Team, Ticket
from tests.channels.facebook.support import messenger_channel
from tests.factories import item
from tests.media_cdn import Route, jpeg
from tests.personas import person

pytestmark = pytest.mark.django_db

BUCKET = "webcare-media-test"


@pytest.fixture(scope="module")
def s3_server():
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def s3(settings, s3_server, monkeypatch):
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(name, value)
    client = boto3.client("s3", endpoint_url=s3_server, region_name="us-east-1")
    client.create_bucket(Bucket=BUCKET)
    settings.STORAGES = {
        **settings.STORAGES,
        "media": {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": {
                "bucket_name": BUCKET,
                "endpoint_url": s3_server,
                "access_key": "testing",
                "secret_key": "testing",
                "region_name": "us-east-1",
                "default_acl": None,
                "querystring_auth": True,
                "querystring_expire": 60,
                "file_overwrite": False,
                "addressing_style": "path",
            },
        },
    }
    yield client
    objects = client.list_objects_v2(Bucket=BUCKET).get("Contents", [])
    for obj in objects:
        client.delete_object(Bucket=BUCKET, Key=obj["Key"])
    client.delete_bucket(Bucket=BUCKET)


@pytest.fixture
def cdn_s3(settings, s3):
    from tests.media_cdn import CDN

    with CDN() as server:
        settings.SAFE_FETCH_LOCAL_HOSTS = (server.host,)
        yield server


def keys(client) -> set[str]:
    return {o["Key"] for o in client.list_objects_v2(Bucket=BUCKET).get("Contents", [])}


def stored_photo(cdn, support=None) -> Attachment:
    cdn.routes["/p.jpg"] = Route(content_type="image/jpeg", body=jpeg())
    channel = messenger_channel(default_team=support)
    ingest_batch(
        channel_id=channel.pk,
        items=[item("m1", attachments=(InboundAttachment(kind="image", url=cdn.url("/p.jpg")),))],
    )
    row = Attachment.objects.get()
    services.attachment_fetch(attachment_id=row.pk)
    row.refresh_from_db()
    return row


def test_a_fetched_photo_and_its_thumbnail_land_in_the_bucket(s3, cdn_s3):
    photo = stored_photo(cdn_s3)
    assert photo.state == "stored"
    assert keys(s3) == {photo.storage_name, photo.thumbnail_name}
    assert s3.get_object(Bucket=BUCKET, Key=photo.storage_name)["Body"].read() == jpeg()


def test_the_bucket_is_streamed_through_the_view_and_never_linked(client, s3, cdn_s3, s3_server):
    support = Team.objects.create(name="Support")
    photo = stored_photo(cdn_s3, support)
    client.force_login(person("anna", team=support))
    ticket = Ticket.objects.get()
    html = client.get(reverse("inbox:thread", args=[ticket.pk])).content.decode()
    assert s3_server not in html and "X-Amz-" not in html
    response = client.get(reverse("inbox:attachment", args=[photo.pk, "file"]))
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == jpeg()


def test_retention_deletes_the_objects_from_the_bucket(s3, cdn_s3, settings):
    settings.MEDIA_RETENTION_DAYS = 10
    with time_machine.travel(timezone.now() - dt.timedelta(days=11)):
        stored_photo(cdn_s3)
    assert len(keys(s3)) == 2
    assert services.media_expire() == 1
    assert keys(s3) == set()


def test_a_range_is_read_from_the_bucket_as_partial_content(client, s3, cdn_s3):
    support = Team.objects.create(name="Support")
    photo = stored_photo(cdn_s3, support)
    client.force_login(person("anna", team=support))
    url = reverse("inbox:attachment", args=[photo.pk, "file"])
    size = len(jpeg())
    response = client.get(url, HTTP_RANGE="bytes=10-29")
    assert response.status_code == 206
    assert response["Content-Range"] == f"bytes 10-29/{size}"
    assert b"".join(response.streaming_content) == jpeg()[10:30]
    assert client.get(url, HTTP_RANGE=f"bytes={size}-").status_code == 416

"""What happens to a customer's attachment between ingest and the thread: stored with the
message, fetched by the task under the safe-fetch rules, typed from its bytes, thumbnailed.

The platform's CDN is a real HTTP server on 127.0.0.1 (tests/media_cdn.py), reachable only
because each test names it in ``SAFE_FETCH_LOCAL_HOSTS``.
"""

from __future__ import annotations

import io

import pytest
import responses
from django.core.files.storage import storages
from PIL import Image

from channels.base import InboundAttachment
from inbox.ingest.services import ingest_batch
from inbox.media import services
from inbox.models import Attachment, AttachmentState, Message
from tests.channels.facebook.support import messenger_channel
from tests.factories import item, make_channel
from tests.media_cdn import SVG_WITH_SCRIPT, Route, jpeg, png_bomb, zeros
from webcare import safe_http

pytestmark = pytest.mark.django_db


def ingest_with(channel, *attachments, external_id="m1"):
    return ingest_batch(
        channel_id=channel.pk,
        items=[item(external_id, text="See attached", attachments=tuple(attachments))],
    )


def fetched(channel, *attachments, external_id="m1") -> list[Attachment]:
    ingest_with(channel, *attachments, external_id=external_id)
    rows = list(Attachment.objects.filter(message__external_id=external_id).order_by("position"))
    for row in rows:
        if row.state == AttachmentState.PENDING:
            while services.attachment_fetch(attachment_id=row.pk) is not None:
                row.refresh_from_db()
                if row.state != AttachmentState.PENDING:
                    break
        row.refresh_from_db()
    return rows


# --- stored at ingest -------------------------------------------------------------------------
def test_a_new_message_stores_its_attachments_with_it_and_counts_them():
    channel = messenger_channel()
    ingest_with(
        channel,
        InboundAttachment(kind="image", url="https://pbs.twimg.com/media/a.jpg", alt_text="Box"),
        InboundAttachment(kind="location", title="Home", latitude=52.37, longitude=4.89),
    )
    message = Message.objects.get(external_id="m1")
    assert message.attachment_count == 2
    photo, place = message.attachments.order_by("position")
    assert (photo.kind, photo.state, photo.alt_text) == ("image", "pending", "Box")
    assert (place.kind, place.latitude, place.longitude) == ("location", 52.37, 4.89)
    assert place.state == AttachmentState.STORED  # nothing to fetch: shown from its fields


def test_a_redelivered_message_does_not_store_its_attachments_twice():
    channel = messenger_channel()
    photo = InboundAttachment(kind="image", url="https://pbs.twimg.com/media/a.jpg")
    ingest_with(channel, photo)
    ingest_with(channel, photo)
    assert Attachment.objects.count() == 1


def test_attachments_of_a_batch_are_written_in_one_insert(django_assert_num_queries):
    channel = messenger_channel()
    items = [
        item(
            f"m{n}",
            thread=f"t{n}",
            attachments=(InboundAttachment(kind="image", url=f"https://pbs.twimg.com/{n}.jpg"),),
        )
        for n in range(20)
    ]
    ingest_batch(channel_id=channel.pk, items=items[:1])
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        ingest_batch(channel_id=channel.pk, items=items[1:])
    inserts = [q for q in queries if 'INSERT INTO "inbox_attachment"' in q["sql"]]
    assert len(inserts) == 1
    assert Attachment.objects.count() == 20


def test_the_fetch_is_queued_only_after_the_batch_commits(
    django_capture_on_commit_callbacks, monkeypatch
):
    queued = []
    monkeypatch.setattr("inbox.media.tasks.attachments_fetch.delay", queued.append)
    channel = messenger_channel()
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        ingest_with(channel, InboundAttachment(kind="image", url="https://pbs.twimg.com/a.jpg"))
    assert queued == []
    for callback in callbacks:
        callback()
    assert queued == [[Attachment.objects.get().pk]]


# --- fetched and typed ------------------------------------------------------------------------
def test_a_photo_is_stored_with_a_thumbnail_that_keeps_no_exif(cdn):
    cdn.routes["/photo.jpg"] = Route(content_type="image/jpeg", body=jpeg())
    (photo,) = fetched(
        messenger_channel(), InboundAttachment(kind="image", url=cdn.url("/photo.jpg"))
    )
    assert photo.state == AttachmentState.STORED, photo.reason
    assert photo.detected_type == "image/jpeg"
    assert photo.size == len(jpeg())
    media = storages["media"]
    assert media.open(photo.storage_name).read() == jpeg()
    with Image.open(media.open(photo.thumbnail_name)) as thumb:
        assert max(thumb.size) <= 480
        assert not thumb.getexif()  # the phone's GPS position stays in the original only


def test_bytes_that_contradict_the_declared_type_decide_and_are_noted(cdn):
    cdn.routes["/liar.jpg"] = Route(content_type="image/jpeg", body=b"<html><script>x</script>")
    (liar,) = fetched(
        messenger_channel(),
        InboundAttachment(kind="image", url=cdn.url("/liar.jpg"), mime_type="image/jpeg"),
    )
    assert liar.detected_type == "text/html"
    assert "not image/jpeg as declared" in liar.reason
    assert "download only" in liar.reason
    assert liar.thumbnail_name == ""


def test_an_svg_with_script_is_kept_for_download_only(cdn):
    cdn.routes["/logo.svg"] = Route(content_type="image/svg+xml", body=SVG_WITH_SCRIPT)
    (svg,) = fetched(messenger_channel(), InboundAttachment(kind="image", url=cdn.url("/logo.svg")))
    assert svg.detected_type == "image/svg+xml"
    assert svg.detected_type not in services.INLINE_TYPES
    assert "download only" in svg.reason


def test_a_png_decompression_bomb_is_refused_and_nothing_is_stored(cdn, media_storage):
    cdn.routes["/bomb.png"] = Route(content_type="image/png", body=png_bomb())
    (bomb,) = fetched(
        messenger_channel(), InboundAttachment(kind="image", url=cdn.url("/bomb.png"))
    )
    assert bomb.state == AttachmentState.REFUSED
    assert "decompression bomb" in bomb.reason
    assert bomb.storage_name == ""
    assert not media_storage.exists() or not any(media_storage.rglob("*.*"))


def test_a_missing_file_is_no_longer_available_at_once(cdn):
    (gone,) = fetched(
        messenger_channel(), InboundAttachment(kind="image", url=cdn.url("/gone.jpg"))
    )
    assert gone.state == AttachmentState.UNAVAILABLE
    assert gone.reason == "the platform answered 404"
    assert gone.attempts == 1


def test_an_expired_signed_link_is_no_longer_available_at_once(cdn):
    cdn.routes["/signed.jpg"] = Route(status=403, content_type="text/plain", body=b"URL expired")
    (old,) = fetched(
        messenger_channel(), InboundAttachment(kind="image", url=cdn.url("/signed.jpg"))
    )
    assert old.state == AttachmentState.UNAVAILABLE
    assert "expired" in old.reason
    assert old.attempts == 1


def test_a_server_error_is_retried_then_given_up_with_the_reason(cdn, settings):
    settings.MEDIA_FETCH_ATTEMPTS = 3
    cdn.routes["/flaky.jpg"] = Route(status=503, content_type="text/plain", body=b"busy")
    (flaky,) = fetched(
        messenger_channel(), InboundAttachment(kind="image", url=cdn.url("/flaky.jpg"))
    )
    assert flaky.state == AttachmentState.UNAVAILABLE
    assert flaky.reason == "Gave up after 3 tries: the platform answered 503"
    assert cdn.hits["/flaky.jpg"] == 3


def test_the_wait_between_tries_doubles():
    assert [services.retry_delay(n) for n in (1, 2, 3, 4)] == [30, 60, 120, 240]
    assert services.retry_delay(30) == services.RETRY_MAX_SECONDS


def test_a_2_gb_file_stops_at_the_cap_without_being_read(cdn, settings):
    settings.MEDIA_MAX_BYTES = 5 * 1024 * 1024
    two_gb = 2 * 1024**3
    cdn.routes["/huge.mp4"] = Route(content_type="video/mp4", body=zeros(two_gb), length=False)
    (huge,) = fetched(
        messenger_channel(), InboundAttachment(kind="video", url=cdn.url("/huge.mp4"))
    )
    assert huge.state == AttachmentState.REFUSED
    assert huge.reason == f"larger than the limit of {5 * 1024 * 1024} bytes"
    # What left the server: the cap plus what the sockets' buffers held, not 2 GB.
    assert cdn.sent["/huge.mp4"] < 5 * 1024 * 1024 + 16 * 1024 * 1024


def test_a_declared_length_over_the_cap_is_refused_before_the_body(cdn, settings):
    settings.MEDIA_MAX_BYTES = 1024
    cdn.routes["/big.jpg"] = Route(content_type="image/jpeg", body=b"\xff\xd8\xff" + bytes(5000))
    (big,) = fetched(messenger_channel(), InboundAttachment(kind="image", url=cdn.url("/big.jpg")))
    assert big.state == AttachmentState.REFUSED
    assert "larger than the limit" in big.reason


def test_one_bad_attachment_does_not_stop_the_others(cdn):
    cdn.routes["/photo.jpg"] = Route(content_type="image/jpeg", body=jpeg())
    cdn.routes["/bomb.png"] = Route(content_type="image/png", body=png_bomb())
    bomb, gone, photo = fetched(
        messenger_channel(),
        InboundAttachment(kind="image", url=cdn.url("/bomb.png")),
        InboundAttachment(kind="image", url=cdn.url("/gone.png")),
        InboundAttachment(kind="image", url=cdn.url("/photo.jpg")),
    )
    assert [bomb.state, gone.state, photo.state] == ["refused", "unavailable", "stored"]


def test_a_file_kind_without_an_address_says_so():
    ingest_with(messenger_channel(), InboundAttachment(kind="file", name="invoice.pdf"))
    (row,) = Attachment.objects.all()
    assert row.state == AttachmentState.UNAVAILABLE
    assert row.reason == "The platform gave no address for it."


# --- the safe-fetch rules on platform hosts ---------------------------------------------------
@pytest.fixture
def public_dns(monkeypatch):
    """Platform hosts resolve to a public address (there is no DNS here); video.twimg.com to
    loopback, as a hostile DNS answer would."""

    def addresses(host: str) -> list[str]:
        return ["127.0.0.1"] if host == "video.twimg.com" else ["93.184.216.34"]

    monkeypatch.setattr(safe_http, "_addresses", addresses)


def test_a_redirect_to_127_0_0_1_is_refused(public_dns):
    channel = make_channel("x", credentials={"bearer_token": "t"}, settings={})
    with responses.RequestsMock() as web:
        web.get(
            "https://pbs.twimg.com/media/a.jpg",
            status=302,
            headers={"Location": "https://127.0.0.1/admin"},
        )
        (photo,) = fetched(
            channel, InboundAttachment(kind="image", url="https://pbs.twimg.com/media/a.jpg")
        )
    assert photo.state == AttachmentState.REFUSED
    assert photo.reason == "127.0.0.1 is not one of the platform's media hosts"


def test_a_media_host_that_resolves_to_loopback_is_refused(public_dns):
    channel = make_channel("x", credentials={"bearer_token": "t"}, settings={})
    with responses.RequestsMock(assert_all_requests_are_fired=False) as web:
        web.get("https://pbs.twimg.com/media/a.jpg", status=302,
                headers={"Location": "https://video.twimg.com/a.mp4"})  # fmt: skip
        (photo,) = fetched(
            channel, InboundAttachment(kind="image", url="https://pbs.twimg.com/media/a.jpg")
        )
    assert photo.state == AttachmentState.REFUSED
    assert photo.reason == "video.twimg.com resolves to a non-public address"


def test_an_address_outside_the_platforms_media_hosts_is_refused(public_dns):
    channel = make_channel("x", credentials={"bearer_token": "t"}, settings={})
    (photo,) = fetched(channel, InboundAttachment(kind="image", url="https://evil.example/a.jpg"))
    assert photo.state == AttachmentState.REFUSED
    assert photo.reason == "evil.example is not one of the platform's media hosts"


def test_plain_http_is_refused(public_dns):
    channel = make_channel("x", credentials={"bearer_token": "t"}, settings={})
    (photo,) = fetched(channel, InboundAttachment(kind="image", url="http://pbs.twimg.com/a.jpg"))
    assert (photo.state, photo.reason) == ("refused", "not https")


def test_another_platforms_media_host_is_refused(public_dns):
    # A Meta CDN address in an X payload: not one of X's media hosts.
    channel = make_channel("x", credentials={"bearer_token": "t"}, settings={})
    (photo,) = fetched(
        channel, InboundAttachment(kind="image", url="https://scontent.xx.fbcdn.net/a.jpg")
    )
    assert photo.state == AttachmentState.REFUSED
    assert photo.reason == "scontent.xx.fbcdn.net is not one of the platform's media hosts"


def test_the_simulators_demo_photo_is_read_from_its_own_folder(media_storage):
    from channels.simulator.connector import MEDIA_URL

    (photo,) = fetched(
        make_channel(), InboundAttachment(kind="image", url=f"{MEDIA_URL}parcel-damaged.jpg")
    )
    assert (photo.state, photo.detected_type) == ("stored", "image/jpeg")
    assert photo.thumbnail_name


def test_a_loopback_server_is_refused_without_the_test_setting():
    with pytest.raises(safe_http.Refused, match="not https"):
        safe_http.checked_target("http://127.0.0.1:8000/a.jpg", ())
    with pytest.raises(safe_http.Refused):
        safe_http.checked_target("https://127.0.0.1/a.jpg")


def test_detect_type_reads_magic_numbers_not_names():
    out = io.BytesIO()
    Image.new("RGB", (2, 2)).save(out, "PNG")
    assert services.detect_type(out.getvalue()[:64]) == "image/png"
    assert services.detect_type(b"%PDF-1.7\n") == "application/pdf"
    assert services.detect_type(SVG_WITH_SCRIPT) == "image/svg+xml"

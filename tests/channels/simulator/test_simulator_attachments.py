"""The simulator sends photos and locations that `make demo` can show without any network."""

from __future__ import annotations

import datetime as dt

import pytest

from channels.base import PermanentError, host_allowed, media_url_allowed
from channels.simulator.connector import MEDIA_DIR, MEDIA_URL, Simulation, SimulatorConnector
from tests.factories import make_channel

pytestmark = pytest.mark.django_db

AT = dt.datetime(2026, 11, 20, 9, 0, tzinfo=dt.UTC)


def _items(seed: int = 1, count: int = 300):
    simulation = Simulation(seed)
    return [simulation.item(n, AT) for n in range(count)]


def test_some_complaints_come_with_a_photo_and_some_dms_with_a_location():
    kinds = {a.kind for item in _items() for a in item.attachments}
    assert kinds == {"image", "location"}


def test_the_same_seed_sends_the_same_attachments():
    first = [item.attachments for item in _items(seed=7)]
    assert first == [item.attachments for item in _items(seed=7)]


def test_a_simulated_photo_is_downloaded_from_the_demo_images_shipped_with_the_code():
    connector = make_channel("simulator").connector()
    photo = next(a for item in _items() for a in item.attachments if a.kind == "image")
    request = connector.media_request(photo)
    assert request.url.startswith("file://")
    assert media_url_allowed(connector, request.url)
    path = MEDIA_DIR / photo.url.removeprefix(MEDIA_URL)
    assert path.read_bytes()[:3] in (b"\xff\xd8\xff", b"\x89PN")


def test_a_location_has_coordinates_and_a_place_name():
    location = next(a for item in _items() for a in item.attachments if a.kind == "location")
    assert -90 <= location.latitude <= 90 and -180 <= location.longitude <= 180
    assert location.title


def test_a_path_outside_the_demo_images_is_refused():
    connector = make_channel("simulator").connector()
    from channels.base import InboundAttachment

    with pytest.raises(PermanentError):
        connector.media_request(InboundAttachment(kind="image", url=MEDIA_URL + "../connector.py"))
    assert not media_url_allowed(SimulatorConnector, "file:///etc/passwd")
    assert not media_url_allowed(SimulatorConnector, MEDIA_DIR.joinpath("..", "corpus.py").as_uri())


def test_a_host_suffix_matches_subdomains_only():
    assert host_allowed("scontent-ams2-1.xx.fbcdn.net", (".fbcdn.net",))
    assert not host_allowed("fbcdn.net", (".fbcdn.net",))
    assert not host_allowed("evilfbcdn.net", (".fbcdn.net",))
    assert host_allowed("pbs.twimg.com", ("pbs.twimg.com",))
    assert not host_allowed("x.pbs.twimg.com", ("pbs.twimg.com",))

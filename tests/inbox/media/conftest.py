"""Fixtures of the media tests: a CDN on 127.0.0.1 that the safe fetch may use (only because
the test names it in ``SAFE_FETCH_LOCAL_HOSTS``), and a media storage of the test's own."""

from __future__ import annotations

import pytest

from tests.media_cdn import CDN


@pytest.fixture
def media_storage(settings, tmp_path):
    settings.STORAGES = {
        **settings.STORAGES,
        "media": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path / "media"), "base_url": None},
        },
    }
    return tmp_path / "media"


@pytest.fixture
def cdn(settings, media_storage):
    with CDN() as server:
        settings.SAFE_FETCH_LOCAL_HOSTS = (server.host,)
        yield server

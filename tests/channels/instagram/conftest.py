"""Fixtures of the Instagram channel tests."""

import pytest

from tests.channels.instagram.support import APP_SECRET


@pytest.fixture(autouse=True)
def instagram_settings(settings):
    settings.INSTAGRAM_APP_SECRET = APP_SECRET
    settings.META_APP_SECRET = "the-facebook-app-secret"
    settings.META_WEBHOOK_VERIFY_TOKEN = "verify-me-123"
    return settings

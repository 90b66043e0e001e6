"""Fixtures shared by every channel's tests."""

from tests.channels.media_support import media_storage  # noqa: F401 - a fixture

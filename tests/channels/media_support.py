"""Files an agent attached to a reply, as the connectors get them: in the ``media`` storage."""

from __future__ import annotations

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import storages

from channels.base import OutboundAttachment

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@pytest.fixture
def media_storage(settings, tmp_path):
    """A ``media`` storage of its own in a temporary folder."""
    settings.STORAGES = {
        **settings.STORAGES,
        "media": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path)},
        },
    }
    return tmp_path


def stored(name: str, content: bytes, mime: str, kind: str) -> OutboundAttachment:
    saved = storages["media"].save(f"outbound/test/{name}", ContentFile(content))
    return OutboundAttachment(
        name=name, mime_type=mime, size=len(content), kind=kind, storage_name=saved
    )

"""Re-encrypt every channel's credentials with the current key.

Rotation (docs/security.md): put the new SECRET_KEY in place and the old one in
SECRET_KEY_FALLBACKS (or a new salt first in WEBCARE_FIELD_SALTS), run this command, then drop
the old key. Values are decrypted with any known key and written back with the first.
"""

from django.core.management.base import BaseCommand
from django.db import transaction

from channels.models import Channel


class Command(BaseCommand):
    help = "Re-encrypt channel credentials with the current key (after a key rotation)."

    def handle(self, *args, **options) -> None:
        count = 0
        with transaction.atomic():
            for channel in Channel.objects.select_for_update().only("pk", "credentials"):
                # Reading decrypts with any known key; saving encrypts with the first.
                Channel.objects.filter(pk=channel.pk).update(credentials=channel.credentials)
                count += 1
        self.stdout.write(f"re-encrypted the credentials of {count} channels")

"""``manage.py x_test_connection <channel_id>``: ask X who the channel's credentials belong to.

Prints the account, or X's own error message. With ``--save`` the account id and handle are
stored on the channel (its own messages are then recognised as ours).
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from channels.base import ConnectorError
from channels.models import Channel
from channels.services import channel_update


class Command(BaseCommand):
    help = "Test an X channel's credentials: prints the account or the API's error."

    def add_arguments(self, parser) -> None:
        parser.add_argument("channel_id", type=int)
        parser.add_argument(
            "--save", action="store_true", help="Store the account id and handle on the channel."
        )

    def handle(self, *args, channel_id: int, save: bool, **options) -> None:
        channel = Channel.objects.filter(pk=channel_id, kind="x").first()
        if channel is None:
            raise CommandError(f"No X channel with id {channel_id}.")
        try:
            info = channel.connector().test_connection()
        except ConnectorError as exc:
            raise CommandError(f"X refused: {exc.message}") from exc
        self.stdout.write(
            f"Connected as @{info.handle} ({info.display_name}), account id {info.account_id}"
            + (f", {info.detail}" if info.detail else "")
        )
        if channel.own_account_id and channel.own_account_id != info.account_id:
            self.stderr.write(
                f"Warning: the channel is set up for account {channel.own_account_id}, "
                f"but these credentials belong to {info.account_id}."
            )
        if save:
            channel_update(channel=channel, own_account_id=info.account_id, own_handle=info.handle)
            self.stdout.write("Saved the account on the channel.")

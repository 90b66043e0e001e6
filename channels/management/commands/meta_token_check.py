"""``manage.py meta_token_check``: check every Facebook Page token now (the daily task's work)."""

from django.core.management.base import BaseCommand, CommandParser

from channels.facebook.tokens import meta_channels, token_check


class Command(BaseCommand):
    help = (
        "Run Meta's debug_token for each enabled Facebook / Messenger channel and record a "
        "warning in its health before the token expires or loses a permission."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--channel", type=int, help="Check only this channel id.")

    def handle(self, *args, **options) -> None:
        channels = meta_channels()
        if options.get("channel"):
            channels = channels.filter(pk=options["channel"])
        count = 0
        for channel in channels.order_by("pk"):
            count += 1
            self.stdout.write(f"{channel.pk} {channel.name}: {token_check(channel)}")
        if not count:
            self.stdout.write("No enabled Facebook or Messenger channels.")

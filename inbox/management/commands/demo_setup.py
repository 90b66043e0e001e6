"""Create the demo: users for each role, a team and two simulator channels (one shaped like
an Instagram account) with some history.

Safe to run again: it keeps what exists and prints the same log-ins.
"""

from __future__ import annotations

import datetime as dt
import json
import secrets

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.utils import timezone

from channels.models import Channel
from channels.polling import channel_poll
from channels.services import channel_create
from inbox.models import AgentProfile, Team

DEMO_USERS = [
    # username, first name, last name, role, signature
    ("admin", "Ada", "Admin", "admin", "^Ada"),
    ("lead", "Lotte", "de Lange", "lead", "^Lotte"),
    ("anna", "Anna", "Visser", "agent", "^Anna"),
    ("bram", "Bram", "Jansen", "agent", "^Bram"),
]
# Their replies wait for a lead's approval (four-eyes review), so the demo shows the review queue.
TRAINEES = {"bram"}


class Command(BaseCommand):
    help = "Create demo users (printed with their passwords), a team and a live simulator channel."

    def handle(self, *args, **options) -> None:
        settings.DATA_DIR.mkdir(parents=True, exist_ok=True)
        credentials_file = settings.DATA_DIR / "demo-credentials.json"
        passwords = json.loads(credentials_file.read_text()) if credentials_file.exists() else {}
        team, _ = Team.objects.get_or_create(name="Webcare")
        User = get_user_model()
        for username, first, last, role, signature in DEMO_USERS:
            user = User.objects.filter(username=username).first()
            if user is None or username not in passwords:
                passwords[username] = secrets.token_urlsafe(9)
                user = user or User(username=username)
                user.first_name, user.last_name = first, last
                user.email = f"{username}@example.com"
                user.is_staff = role == "admin"
                user.is_superuser = role == "admin"
                user.set_password(passwords[username])
                user.save()
            group, _ = Group.objects.get_or_create(name=role)
            user.groups.add(group)
            team.members.add(user)
            profile, _ = AgentProfile.objects.get_or_create(
                user=user, defaults={"signature": signature}
            )
            if username in TRAINEES and not profile.needs_approval:
                profile.needs_approval = True
                profile.save(update_fields=["needs_approval"])
        credentials_file.write_text(json.dumps(passwords, indent=2))
        credentials_file.chmod(0o600)

        # Office hours, a one-hour SLA and out-of-hours acknowledgements, so due times and
        # acknowledgements show from the first ticket on.
        call_command("leads_defaults", verbosity=0)

        # Some history first, spread over the last hours, so the inbox is not empty on first
        # sight and "longest waiting first" has something to sort; then live traffic.
        _simulated_channel(
            kind="simulator",
            name="Demo shop (simulated)",
            team=team,
            seed=2026,
            history=25,
            spacing_minutes=7,
            poll_interval=5,
            live={"rate_per_minute": 8, "fail_rate": 0.05},
        )
        # An Instagram-shaped account beside it: comments and DMs, some with photos.
        _simulated_channel(
            kind="simulator_instagram",
            name="Demo shop on Instagram (simulated)",
            team=team,
            seed=3033,
            history=12,
            spacing_minutes=11,
            poll_interval=7,
            live={"rate_per_minute": 3, "fail_rate": 0.02},
        )

        if not Channel.objects.filter(kind="whatsapp_demo").exists():
            # A WhatsApp-shaped number: texts, photos, a location now and then, and ticks on
            # replies (sent, delivered, read) a few seconds after an agent answers.
            whatsapp = channel_create(
                kind="whatsapp_demo",
                name="Demo shop WhatsApp (simulated)",
                settings={"seed": 2027, "per_poll": 8, "read_receipts": False},
                poll_interval=5,
                default_team=team,
            )
            channel_poll(whatsapp)
            whatsapp.settings = {"seed": 2027, "rate_per_minute": 2, "read_receipts": False}
            whatsapp.save(update_fields=["settings"])

        self.stdout.write(self.style.SUCCESS("Demo log-ins (role: username / password):"))
        for username, _first, _last, role, _sig in DEMO_USERS:
            trainee = (
                "  (trainee: replies wait for the lead's approval)" if username in TRAINEES else ""
            )
            self.stdout.write(f"  {role:6} {username:6} / {passwords[username]}{trainee}")


def _simulated_channel(
    *,
    kind: str,
    name: str,
    team,
    seed: int,
    history: int,
    spacing_minutes: int,
    poll_interval: int,
    live: dict,
) -> None:
    """Create a simulator channel of ``kind`` once: ``history`` items spaced over the past,
    polled now, then the ``live`` settings for the traffic that follows."""
    if Channel.objects.filter(kind=kind).exists():
        return
    start = timezone.now() - dt.timedelta(minutes=spacing_minutes * history)
    channel = channel_create(
        kind=kind,
        name=name,
        settings={
            "seed": seed,
            "per_poll": history,
            "start": start.isoformat(),
            "spacing_seconds": spacing_minutes * 60,
        },
        poll_interval=poll_interval,
        default_team=team,
    )
    channel_poll(channel)
    channel.settings = {"seed": seed, **live}
    channel.save(update_fields=["settings"])

"""Create the demo: users for each role, a team, one simulated channel per kind of platform
(X mentions and DMs, Facebook comments, Messenger, a review site, Instagram, WhatsApp) with some
history, and canned replies in English and Dutch.

Safe to run again: it keeps what exists and keeps the same log-ins. ``make demo`` passes
``--no-logins``: ``run_demo`` prints them once, beside the address, when the server answers.
"""

from __future__ import annotations

import datetime as dt
import json
import secrets
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.utils import timezone

from channels.models import Channel
from channels.polling import channel_poll
from channels.services import channel_create
from inbox.models import AgentProfile, CannedReply, Team

DEMO_USERS = [
    # username, first name, last name, role, signature
    ("admin", "Ada", "Admin", "admin", "^Ada"),
    ("lead", "Lotte", "de Lange", "lead", "^Lotte"),
    ("anna", "Anna", "Visser", "agent", "^Anna"),
    ("bram", "Bram", "Jansen", "agent", "^Bram"),
]
# Their replies wait for a lead's approval (four-eyes review), so the demo shows the review queue.
TRAINEES = {"bram"}

# One simulated channel per kind (channels/simulator/): each sends its platform's payloads
# through that platform's real normaliser, and the composer offers what that platform allows.
DEMO_CHANNELS: list[dict[str, Any]] = [
    # Mentions (some with a photo) and DMs: X's weighted 280-character count.
    {
        "kind": "x_demo",
        "name": "Demo shop on X",
        "seed": 2026,
        "history": 16,
        "spacing_minutes": 9,
        "live": {"rate_per_minute": 3},
    },
    # Comments under the Page's posts: answered in public or moved to Messenger, or hidden.
    {
        "kind": "facebook_demo",
        "name": "Demo shop Facebook Page",
        "seed": 2031,
        "history": 12,
        "spacing_minutes": 13,
        "live": {"rate_per_minute": 2},
    },
    # Conversations spread over a day and a half: the older ones are past the 24-hour window.
    {
        "kind": "messenger_demo",
        "name": "Demo shop Messenger",
        "seed": 2032,
        "history": 12,
        "spacing_minutes": 170,
        "live": {"rate_per_minute": 2},
    },
    # Reviews with stars, some edited later by their author: answered in public only.
    {
        "kind": "reviews_demo",
        "name": "Demo shop on Trustpilot",
        "seed": 2033,
        "history": 8,
        "spacing_minutes": 45,
        "live": {"rate_per_minute": 0.5},
    },
    # Comments and DMs, some with photos.
    {
        "kind": "simulator_instagram",
        "name": "Demo shop on Instagram",
        "seed": 3033,
        "history": 12,
        "spacing_minutes": 11,
        "live": {"rate_per_minute": 2, "fail_rate": 0.02},
    },
]

# (title, English body, Dutch body): only the variables canned replies know
# (inbox.replies.canned.VARIABLES).
DEMO_CANNED = [
    (
        "Sorry, looking into it",
        "Hi {customer_name}, sorry to hear that! I'm looking into it right away and will get "
        "back to you today.",
        "Hoi {customer_name}, vervelend om te horen! Ik zoek het meteen voor je uit en laat "
        "vandaag nog van me horen.",
    ),
    (
        "Order number, please",
        "Hi {customer_name}, could you send me your order number in a private message? Then "
        "I'll check where your parcel is.",
        "Hoi {customer_name}, kun je je ordernummer in een privébericht sturen? Dan kijk ik "
        "waar je pakket is.",
    ),
    (
        "Thanks for the review",
        "Thank you for your review, {customer_name}! Glad to hear it. Greetings, "
        "{agent_first_name}",
        "Bedankt voor je review, {customer_name}! Fijn om te horen. Groet, {agent_first_name}",
    ),
]


class Command(BaseCommand):
    help = "Create demo users (printed with their passwords), a team and simulated channels."

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--no-logins",
            action="store_true",
            help="Do not print the log-ins (run_demo prints them with the address).",
        )

    def handle(self, *args, no_logins: bool = False, **options) -> None:
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

        # One simulated channel per kind of platform, each with some history spread over the
        # last hours (so the inbox is not empty on first sight and "longest waiting first" has
        # something to sort), then live traffic.
        for spec in DEMO_CHANNELS:
            _simulated_channel(team=team, **spec)
        _whatsapp_channel(team)
        _canned_replies()

        if no_logins:
            return
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
    live: dict,
    poll_interval: int = 5,
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


def _whatsapp_channel(team) -> None:
    """A WhatsApp-shaped number: texts, photos, a location now and then, and ticks on replies
    (sent, delivered, read) a few seconds after an agent answers."""
    if Channel.objects.filter(kind="whatsapp_demo").exists():
        return
    whatsapp = channel_create(
        kind="whatsapp_demo",
        name="Demo shop WhatsApp",
        settings={"seed": 2027, "per_poll": 8, "read_receipts": False},
        poll_interval=5,
        default_team=team,
    )
    channel_poll(whatsapp)
    whatsapp.settings = {"seed": 2027, "rate_per_minute": 2, "read_receipts": False}
    whatsapp.save(update_fields=["settings"])


def _canned_replies() -> None:
    """A few canned replies for everyone, in English with their Dutch text (the composer
    inserts the one in the customer's language)."""
    from inbox.replies.canned import canned_save

    for title, english, dutch in DEMO_CANNED:
        if not CannedReply.objects.filter(title=title).exists():
            canned_save(
                actor=None, title=title, body=english, team=None, translations={"nl": dutch}
            )

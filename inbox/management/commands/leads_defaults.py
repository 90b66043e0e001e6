"""Sensible starting values for the team-lead engines; safe to run again (changes nothing set).

Creates, when missing: default business hours (Monday–Friday 08:00–18:00), a default SLA target
(first and next response within 60 business minutes), out-of-hours acknowledgements in Dutch and
English, and a disabled example spam rule a lead can switch on.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand
from django.db import transaction

from inbox.models import AutoAck, BusinessHours, Rule, SlaTarget
from inbox.models.engines import default_week

ACKS = {
    "nl": "Bedankt voor je bericht! We zijn er {opening} weer en antwoorden je dan zo snel "
    "mogelijk.",
    "en": "Thanks for your message! We're back {opening} and will answer you then.",
}


class Command(BaseCommand):
    help = "Create default business hours, SLA target, auto-acknowledgements and an example rule."

    def handle(self, *args, **options) -> None:
        made = []
        with transaction.atomic():
            if not BusinessHours.objects.filter(team__isnull=True).exists():
                BusinessHours.objects.create(team=None, name="Office hours", week=default_week())
                made.append("business hours")
            if not SlaTarget.objects.filter(channel__isnull=True).exists():
                SlaTarget.objects.create(first_response_minutes=60, next_response_minutes=60)
                made.append("SLA target")
            for language, text in ACKS.items():
                if not AutoAck.objects.filter(channel__isnull=True, language=language).exists():
                    AutoAck.objects.create(language=language, text=text)
                    made.append(f"auto-ack {language}")
            if not Rule.objects.filter(name="Spam links").exists():
                Rule.objects.create(
                    name="Spam links",
                    enabled=False,
                    keywords="bit.ly, gratis volgers, free followers",
                    close_reason="spam",
                    position=0,
                )
                made.append("example rule")
        self.stdout.write("created: " + (", ".join(made) if made else "nothing (all present)"))

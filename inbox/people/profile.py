"""A user's own settings: the first name their signature and canned replies use, their
signature, language and time zone. Availability has its own service
(``inbox.engines.assignment.agent_set_available``), since it changes who gets new tickets."""

from __future__ import annotations

import zoneinfo
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from inbox.audit.services import activity_log
from inbox.models import AgentProfile


def profile_update(
    *,
    user: User,
    first_name: str,
    signature: str,
    language: str,
    time_zone: str,
    arrival_sound: bool | None = None,
) -> AgentProfile:
    """Save the user's own settings; one ``profile_updated`` row with the changed fields (the
    signature goes out under every reply of theirs, so its changes are worth a trace)."""
    errors = {}
    if language not in dict(settings.LANGUAGES):
        errors["language"] = _("Pick English or Nederlands.")
    if time_zone not in zoneinfo.available_timezones():
        errors["time_zone"] = _("Unknown time zone: %(zone)s.") % {"zone": time_zone}
    longest = AgentProfile._meta.get_field("signature").max_length
    if longest is not None and len(signature) > longest:
        errors["signature"] = _("The signature is too long.")
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        profile, _created = AgentProfile.objects.select_for_update().get_or_create(user=user)
        before: dict[str, Any] = {
            "first_name": user.first_name,
            "signature": profile.signature,
            "language": profile.language,
            "time_zone": profile.time_zone,
            "arrival_sound": profile.arrival_sound,
        }
        after: dict[str, Any] = {
            "first_name": first_name.strip(),
            "signature": signature.strip(),
            "language": language,
            "time_zone": time_zone,
            "arrival_sound": profile.arrival_sound if arrival_sound is None else arrival_sound,
        }
        changed = [key for key in after if after[key] != before[key]]
        if not changed:
            return profile
        profile.signature = after["signature"]
        profile.language, profile.time_zone = language, time_zone
        profile.arrival_sound = after["arrival_sound"]
        profile.save(update_fields=["signature", "language", "time_zone", "arrival_sound"])
        if "first_name" in changed:
            user.first_name = after["first_name"]
            user.save(update_fields=["first_name"])
        activity_log(
            ticket=None,
            actor=user,
            verb="profile_updated",
            before={"user": user.pk, **{k: before[k] for k in changed}},
            after={"user": user.pk, **{k: after[k] for k in changed}},
        )
    return profile


def profile_language_set(*, user: User, language: str) -> AgentProfile:
    """Only the language (the switch in the top bar): the other settings stay as they are."""
    profile, _created = AgentProfile.objects.get_or_create(user=user)
    return profile_update(
        user=user,
        first_name=user.first_name,
        signature=profile.signature,
        language=language,
        time_zone=profile.time_zone or settings.TIME_ZONE,
    )


#: Regions of the IANA names people live in, in the order the picker shows them.
ZONE_REGIONS = ("Europe", "America", "Asia", "Africa", "Australia", "Pacific", "Atlantic",
                "Indian", "Antarctica")  # fmt: skip
#: Shown first: where this product's teams mostly work.
COMMON_ZONES = ("Europe/Amsterdam", "Europe/Brussels", "Europe/London", "UTC")


def _zone_label(zone: str) -> str:
    return zone.split("/", 1)[-1].replace("_", " ").replace("/", " – ")


def time_zone_choices(current: str = "") -> list[tuple[str, list[tuple[str, str]]]]:
    """The time zones grouped by region ("Europe" → "Amsterdam"), common ones first; legacy
    aliases (``US/Eastern``, ``Etc/GMT+5``) are left out unless ``current`` is one of them."""
    available = zoneinfo.available_timezones()
    groups: dict[str, list[tuple[str, str]]] = {region: [] for region in ZONE_REGIONS}
    for zone in sorted(available):
        region = zone.split("/", 1)[0]
        if region in groups and "/" in zone:
            groups[region].append((zone, _zone_label(zone)))
    common = [(z, z.replace("_", " ")) for z in COMMON_ZONES if z in available]
    choices: list[tuple[str, list[tuple[str, str]]]] = [(_("Common"), common)]
    choices += [(region, zones) for region, zones in groups.items() if zones]
    listed = {z for _group, zones in choices for z, _label in zones}
    if current and current in available and current not in listed:
        choices.append((_("Other"), [(current, current)]))
    return choices

"""A user's own settings: the first name their signature and canned replies use, their
signature, language and time zone. Availability has its own service
(``inbox.engines.assignment.agent_set_available``), since it changes who gets new tickets."""

from __future__ import annotations

import zoneinfo
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from inbox.audit.services import activity_log
from inbox.models import AgentProfile


def profile_update(
    *,
    user: AbstractBaseUser,
    first_name: str,
    signature: str,
    language: str,
    time_zone: str,
) -> AgentProfile:
    """Save the user's own settings; one ``profile_updated`` row with the changed fields (the
    signature goes out under every reply of theirs, so its changes are worth a trace)."""
    errors = {}
    if language not in dict(settings.LANGUAGES):
        errors["language"] = _("Pick English or Nederlands.")
    if time_zone not in zoneinfo.available_timezones():
        errors["time_zone"] = _("Unknown time zone: %(zone)s.") % {"zone": time_zone}
    if len(signature) > AgentProfile._meta.get_field("signature").max_length:
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
        }
        after = {
            "first_name": first_name.strip(),
            "signature": signature.strip(),
            "language": language,
            "time_zone": time_zone,
        }
        changed = [key for key in after if after[key] != before[key]]
        if not changed:
            return profile
        profile.signature = after["signature"]
        profile.language, profile.time_zone = language, time_zone
        profile.save(update_fields=["signature", "language", "time_zone"])
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

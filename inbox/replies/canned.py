"""Services for canned replies: create, change, delete, each with one audit row.

The variables are filled by ``inbox.replies.services.canned_fill`` when an agent inserts a reply;
this
module only keeps the saved texts.
"""

from __future__ import annotations

import re
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from inbox.audit.services import activity_log, audited_delete
from inbox.models import AgentProfile, CannedReply, Customer, Team, Ticket
from inbox.replies.services import canned_fill, reply_text

#: The variables ``canned_fill`` replaces, with what they become.
VARIABLES = (
    ("{customer_name}", gettext_lazy("the customer's name on the platform (or their handle)")),
    ("{agent_first_name}", gettext_lazy("the first name of the agent who inserts the reply")),
)
EXAMPLE_CUSTOMER = "Sanne de Vries"


def _snapshot(canned: CannedReply) -> dict[str, Any]:
    return {
        "canned": canned.pk,
        "title": canned.title,
        "body": canned.body,
        "translations": canned.translations,
        "team": canned.team_id,
    }


#: ``{word}`` in a body: what looks like a variable, known or not.
_VARIABLE = re.compile(r"\{[A-Za-z_][A-Za-z0-9_]*\}")


def unknown_variables(body: str) -> list[str]:
    """The ``{names}`` in ``body`` that ``canned_fill`` does not replace (they would be sent
    literally), in order of first appearance."""
    known = {name for name, _label in VARIABLES}
    return list(dict.fromkeys(v for v in _VARIABLE.findall(body) if v not in known))


def _unknown_message(unknown: list[str]) -> str:
    return _(
        "Unknown variable %(unknown)s: it would be sent as it is. Known variables: %(known)s."
    ) % {"unknown": ", ".join(unknown), "known": ", ".join(name for name, _label in VARIABLES)}


def _validate(title: str, body: str, translations: dict[str, str]) -> None:
    errors = {}
    if not title.strip():
        errors["title"] = _("A canned reply needs a title.")
    if not body.strip():
        errors["body"] = _("A canned reply needs a text.")
    elif unknown := unknown_variables(body):
        errors["body"] = _unknown_message(unknown)
    for code, text in translations.items():
        if unknown := unknown_variables(text):
            errors[f"body_{code}"] = _unknown_message(unknown)
    if errors:
        raise ValidationError(errors)


def canned_save(
    *,
    actor: User | None,
    canned: CannedReply | None = None,
    title: str,
    body: str,
    team: Team | None,
    translations: dict[str, str] | None = None,
) -> CannedReply:
    """Create (``canned`` None) or change a canned reply; without a team it is for everyone.
    ``translations`` ({"nl": "..."}) are the texts for customers writing those languages."""
    known = dict(settings.LANGUAGES)
    translations = {
        code: text.strip()
        for code, text in (translations or {}).items()
        if code in known and text.strip()
    }
    _validate(title, body, translations)
    with transaction.atomic():
        if canned is None:
            before, verb = {}, "canned_created"
            canned = CannedReply()
        else:
            canned = CannedReply.objects.select_for_update().get(pk=canned.pk)
            before, verb = _snapshot(canned), "canned_updated"
        canned.title, canned.body, canned.team = title.strip(), body.strip(), team
        canned.translations = translations
        canned.save()
        activity_log(ticket=None, actor=actor, verb=verb, before=before, after=_snapshot(canned))
    return canned


def canned_delete(*, actor: User | None, canned: CannedReply) -> None:
    audited_delete(actor=actor, row=canned, before=_snapshot(canned), verb="canned_deleted")


def canned_preview(*, body: str, user: User) -> str:
    """The body as ``user`` would post it to an example customer: variables filled by the very
    function the composer uses, then ``user``'s signature."""
    # canned_fill reads only the ticket's identity/customer names: an unsaved ticket with an
    # example customer keeps the preview on the composer's own code path without a database row.
    example = Ticket(customer=Customer(pk=1, display_name=EXAMPLE_CUSTOMER))
    filled = canned_fill(canned=CannedReply(body=body), ticket=example, user=user)
    profile = AgentProfile.objects.filter(user=user).first()
    return reply_text(text=filled, signature=profile.signature if profile else "")

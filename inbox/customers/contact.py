"""A customer's phone number and e-mail address, normalised so that equal means the same person
(ingest links a new identity by them: ``inbox.customers.identities``).

Phone numbers are stored in E.164 ("+31612345678"), parsed by ``phonenumbers`` (Google's
libphonenumber metadata: national prefixes, lengths and valid ranges per country, which a
hand-written rule would get wrong); a number written without "+" is read in
``settings.PHONE_REGION``. E-mail addresses are stored trimmed and in lower case (mailboxes are
case-insensitive in practice; nobody runs two customers on "Jan@" and "jan@").
"""

from __future__ import annotations

import phonenumbers
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils.translation import gettext as _


def phone_e164(raw: str, *, region: str | None = None) -> str:
    """``raw`` in E.164, or "" when it is no valid phone number."""
    raw = (raw or "").strip()
    if not raw:
        return ""
    try:
        number = phonenumbers.parse(raw, region or settings.PHONE_REGION)
    except phonenumbers.NumberParseException:
        return ""
    if not phonenumbers.is_valid_number(number):
        return ""
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def email_normal(raw: str) -> str:
    """``raw`` trimmed and in lower case, or "" when it is no e-mail address."""
    value = (raw or "").strip().lower()
    if not value:
        return ""
    try:
        validate_email(value)
    except ValidationError:
        return ""
    return value


def contact_clean(*, phone: str, email: str) -> tuple[str, str]:
    """What an agent typed, normalised; raises ``ValueError`` with a message for the agent."""
    e164 = phone_e164(phone)
    if phone.strip() and not e164:
        raise ValueError(_("That is not a valid phone number; write it as +31 6 12345678."))
    address = email_normal(email)
    if email.strip() and not address:
        raise ValueError(_("That is not a valid e-mail address."))
    return e164, address

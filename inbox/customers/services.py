"""Customers: the root of a merged customer, merge and undo, contact details."""

from __future__ import annotations

from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from inbox.audit.services import activity_log
from inbox.customers.contact import contact_clean
from inbox.models import (
    Customer,
    Ticket,
)
from inbox.tickets.services import ActionError


# --- customers --------------------------------------------------------------------------------
def customer_root(customer: Customer) -> Customer:
    return customer.merged_into or customer


def customer_merge(*, source_id: int, target_id: int, user: User) -> None:
    """Link ``source`` to ``target`` as the same person. Tickets keep their own customer, so
    :func:`customer_unmerge` restores everything exactly."""
    with transaction.atomic():
        source = Customer.objects.select_for_update().get(pk=source_id)
        target = Customer.objects.select_related("merged_into").get(pk=target_id)
        target = customer_root(target)
        if target.pk == source.pk:
            raise ActionError(_("That is already the same customer."))
        before = {"merged_into": source.merged_into_id}
        # Whoever was linked to the source follows it: one level deep, always.
        Customer.objects.filter(merged_into=source).update(merged_into=target)
        source.merged_into = target
        source.save(update_fields=["merged_into"])
        now = timezone.now()
        Ticket.objects.filter(customer__in=[source, target]).update(
            updated_at=now, version=F("version") + 1
        )
        activity_log(
            ticket=None,
            actor=user,
            verb="customer_merged",
            before=before,
            after={"customer": source.pk, "merged_into": target.pk},
        )


def customer_unmerge(*, customer_id: int, user: User) -> None:
    with transaction.atomic():
        customer = Customer.objects.select_for_update().get(pk=customer_id)
        if customer.merged_into_id is None:
            return
        before = {"merged_into": customer.merged_into_id}
        target_id = customer.merged_into_id
        customer.merged_into = None
        customer.save(update_fields=["merged_into"])
        Ticket.objects.filter(customer_id__in=[customer.pk, target_id]).update(
            updated_at=timezone.now(), version=F("version") + 1
        )
        activity_log(
            ticket=None,
            actor=user,
            verb="customer_unmerged",
            before=before,
            after={"customer": customer.pk, "merged_into": None},
        )


def customer_contact_set(*, customer_id: int, phone: str, email: str, user: User) -> Customer:
    """Record the customer's phone number and e-mail address (normalised; empty clears one).
    Messages from a new identity with the same number or address then land on this customer
    (``inbox.customers.identities``). Lock: the customer row; audit: "customer_contact"."""
    try:
        phone, email = contact_clean(phone=phone, email=email)
    except ValueError as exc:
        raise ActionError(str(exc)) from exc
    with transaction.atomic():
        customer = Customer.objects.select_for_update().get(pk=customer_id)
        before = {"phone": customer.phone, "email": customer.email}
        after = {"phone": phone, "email": email}
        if before == after:
            return customer
        customer.phone, customer.email = phone, email
        customer.save(update_fields=["phone", "email"])
        Ticket.objects.filter(customer=customer).update(
            updated_at=timezone.now(), version=F("version") + 1
        )
        activity_log(
            ticket=None,
            actor=user,
            verb="customer_contact",
            before=before,
            after={"customer": customer.pk, **after},
        )
    return customer

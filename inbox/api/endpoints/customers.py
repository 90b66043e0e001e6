"""Customers: look-up by handle, phone or e-mail; attributes; merge."""

from __future__ import annotations

from typing import Any

from django.db.models import Q
from ninja import Field, Query, Router, Schema

from inbox.api import services as api_services
from inbox.api.endpoints.base import ACTION_ERRORS, ERRORS, QueryIn, _id
from inbox.core import access
from inbox.customers.contact import email_normal, phone_e164
from inbox.models import (
    Customer,
    Identity,
)
from inbox.tickets import services as ticket_services

# --- customers --------------------------------------------------------------------------------
router = Router(tags=["customers"])


class IdentityOut(Schema):
    id: int
    platform: str
    platform_user_id: str
    handle: str
    display_name: str
    profile_url: str


class CustomerOut(Schema):
    id: int
    display_name: str
    vip: bool
    merged_into_id: int | None
    phone: str = Field(description="E.164, or empty.")
    email: str
    attributes: dict[str, Any]
    identities: list[IdentityOut]


def _customer(c: Customer) -> dict:
    return {
        "id": c.pk,
        "display_name": c.display_name,
        "vip": c.vip,
        "merged_into_id": c.merged_into_id,
        "phone": c.phone,
        "email": c.email,
        "attributes": c.attributes or {},
        "identities": [
            {
                "id": i.pk,
                "platform": i.platform,
                "platform_user_id": i.platform_user_id,
                "handle": i.handle,
                "display_name": i.display_name,
                "profile_url": i.profile_url,
            }
            for i in c.identities.all()
        ],
    }


def _visible_customers(user):
    """Customers of the tickets ``user`` may see (the screens show a customer only there)."""
    access.require_work(user)
    if access.can_assign(user):
        return Customer.objects.all()
    seen = access.visible_tickets(user).values("customer_id")
    return Customer.objects.filter(pk__in=seen)


class CustomerLookup(QueryIn):
    handle: str = Field("", max_length=200, description="A platform handle, with or without @.")
    platform: str = Field("", max_length=32)
    email: str = Field(
        "", max_length=254, description='Matches the e-mail address, or attribute "email".'
    )
    phone: str = Field(
        "",
        max_length=40,
        description='Matches the phone number (any notation) or attribute "phone".',
    )


@router.get("/customers", response={200: list[CustomerOut], **ERRORS})
def customer_lookup(request, lookup: Query[CustomerLookup]):
    qs = _visible_customers(request.user)
    if lookup.handle.strip():
        handle = lookup.handle.strip().lstrip("@")
        ids = Identity.objects.filter(handle__iexact=handle)
        if lookup.platform:
            ids = ids.filter(platform=lookup.platform)
        qs = qs.filter(pk__in=ids.values("customer_id"))
    elif lookup.email.strip():
        email = lookup.email.strip()
        qs = qs.filter(Q(email=email_normal(email) or "-") | Q(attributes__email__iexact=email))
    elif lookup.phone.strip():
        phone = lookup.phone.strip()
        qs = qs.filter(Q(phone=phone_e164(phone) or "-") | Q(attributes__phone=phone))
    else:
        raise ValueError("give handle, email or phone")
    return [_customer(c) for c in qs.prefetch_related("identities").order_by("pk")[:50]]


@router.get("/customers/{customer_id}", response={200: CustomerOut, **ERRORS})
def customer_detail(request, customer_id: int):
    qs = _visible_customers(request.user).prefetch_related("identities")
    return _customer(qs.get(pk=_id(customer_id)))


class AttributesIn(Schema):
    attributes: dict[str, Any] = Field(..., description="Keys to set; null removes a key.")
    replace: bool = False


@router.patch("/customers/{customer_id}/attributes", response={200: CustomerOut, **ERRORS})
def customer_attributes(request, customer_id: int, body: AttributesIn):
    """How a CRM pushes what it knows about a customer."""
    customer = _visible_customers(request.user).get(pk=_id(customer_id))
    if len(body.attributes) > 100 or any(len(str(k)) > 100 for k in body.attributes):
        raise ValueError("at most 100 attributes, keys of at most 100 characters")
    api_services.customer_attributes_set(
        user=request.user,
        customer_id=customer.pk,
        attributes=body.attributes,
        replace=body.replace,
    )
    return _customer(Customer.objects.prefetch_related("identities").get(pk=customer.pk))


class MergeIn(Schema):
    into_customer_id: int = Field(..., ge=1, le=2**63 - 1)


@router.post("/customers/{customer_id}/merge", response={200: CustomerOut, **ACTION_ERRORS})
def customer_merge(request, customer_id: int, body: MergeIn):
    """Link this customer to another as the same person (as "merge" in the thread)."""
    from inbox.customers import services as customer_services

    visible = _visible_customers(request.user)
    source = visible.get(pk=_id(customer_id))
    target = visible.get(pk=body.into_customer_id)
    if source.pk == target.pk:
        raise ticket_services.ActionError("A customer cannot be merged into itself.")
    customer_services.customer_merge(source_id=source.pk, target_id=target.pk, user=request.user)
    return _customer(Customer.objects.prefetch_related("identities").get(pk=source.pk))

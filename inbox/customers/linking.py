"""One person, two platform ids: what a connector's ``IdentityHint`` tells us, stored.

Meta gives a person a different id in Page comments than in the Page's Messenger inbox. A
private reply ("move to DM") is the one moment both are known: the Send API answers with the
recipient's PSID, and the Facebook connector returns it on its ``SendResult.identity_hints``.
Delivery (``inbox.replies.delivery``) stores the hint here: linking the PSID to the commenter's
customer makes their DM answer land in the same customer's view.
"""

from __future__ import annotations

import logging

from django.db import IntegrityError, transaction
from django.utils import timezone

from inbox.models import Activity, Customer, Identity

log = logging.getLogger(__name__)


def identity_link_same_person(*, platform: str, known_uid: str, other_uid: str) -> Identity | None:
    """Give the customer of the identity ``known_uid`` the identity ``other_uid`` too.

    Lock: the other customer's row when it must be linked. Audit: a "customer_linked" activity
    when two customers are linked.

    When the PSID already belongs to another customer (they wrote to the Page before), that
    customer is linked to the commenter's as the same person (``merged_into``), which an admin
    can undo; nothing is moved or deleted.
    """
    commenter_uid, psid = known_uid, other_uid
    if not commenter_uid or not psid or commenter_uid == psid:
        return None
    with transaction.atomic():
        commenter = (
            Identity.objects.select_related("customer")
            .filter(platform=platform, platform_user_id=commenter_uid)
            .first()
        )
        if commenter is None:
            return None
        existing = Identity.objects.filter(platform=platform, platform_user_id=psid).first()
        if existing is None:
            try:
                with transaction.atomic():
                    return Identity.objects.create(
                        platform=platform,
                        platform_user_id=psid,
                        customer=commenter.customer,
                        display_name=commenter.display_name,
                        handle=commenter.handle,
                        avatar_url=commenter.avatar_url,
                        updated_at=timezone.now(),
                    )
            except IntegrityError:
                # A DM from this person was ingested at the same moment.
                existing = Identity.objects.get(platform=platform, platform_user_id=psid)
        if existing.customer_id == commenter.customer_id:
            return existing
        other = Customer.objects.select_for_update().get(pk=existing.customer_id)
        target = commenter.customer.merged_into_id or commenter.customer_id
        if other.merged_into_id is None and other.pk != target:
            other.merged_into_id = target
            other.save(update_fields=["merged_into"])
            Activity.objects.create(
                ticket=None,
                verb="customer_linked",
                after={
                    "customer": other.pk,
                    "merged_into": target,
                    "reason": "Facebook private reply: same person in comments and Messenger",
                },
            )
        return existing

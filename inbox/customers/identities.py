"""The authors of an ingested batch as identities and customers: one lookup, one insert each for
the new ones, one update for changed profiles, whatever the batch's size (``inbox.core.bulk``).

An author the inbox has not seen before whose platform vouches for a phone number or e-mail
address (``InboundAuthor.phone``/``email``: WhatsApp's number) joins the customer already known
by it (on another channel, or recorded by an agent), instead of becoming a new customer. The
customers are looked up in the identities' own statement (``UNION ALL``), so a batch costs the
same statements with contact details as without.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from channels.base import InboundAuthor, InboundItem
from inbox.core import bulk
from inbox.customers.contact import email_normal, phone_e164
from inbox.engines.priority import Reach
from inbox.models import Customer, Identity

_PROFILE = ("handle", "display_name", "avatar_url", "profile_url", "followers", "verified")


def identities_upsert(
    platform: str, items: Sequence[InboundItem], now: dt.datetime
) -> tuple[dict[str, tuple[int, int | None]], dict[int, Reach]]:
    """Platform user id -> (identity id, customer id) for every customer author in ``items``,
    and identity id -> the author's reach (followers, verified, VIP) as stored after this batch,
    for the engines. The VIP flags come with the identities' lookup (a join), so the engines
    need no query of their own for the authors of a batch."""
    authors = {i.author.platform_user_id: i.author for i in items if i.author and not i.is_ours}
    if not authors:
        return {}, {}
    contacts = {uid: _contact(a) for uid, a in authors.items() if a.phone or a.email}
    found, by_phone, by_email = _lookup(platform, list(authors), contacts)
    identities = {row[0]: (row[1], row[2]) for row in found}
    reach: dict[int, Reach] = {}
    missing = [uid for uid in authors if uid not in identities]
    if missing:
        known = {}
        for uid in missing:
            phone, email = contacts.get(uid, ("", ""))
            customer = by_phone.get(phone) if phone else None
            known[uid] = customer or (by_email.get(email) if email else None)
        created = _identities_insert(platform, authors, missing, contacts, known, now)
        identities.update({uid: (pk, customer) for uid, pk, customer in created})
        for uid, pk, _customer in created:
            reach[pk] = Reach(authors[uid].followers, bool(authors[uid].verified), False)
    reach.update(_profiles_update(authors, found, now))
    return identities, reach


def _contact(author: InboundAuthor) -> tuple[str, str]:
    """The author's phone (E.164) and e-mail address, normalised. A phone already in E.164 (as
    WhatsApp gives it) is taken as it is: parsing every new author's number would cost ingest
    more than the lookup."""
    phone = author.phone.strip()
    if phone and not (phone.startswith("+") and phone[1:].isdigit() and 8 <= len(phone) <= 16):
        phone = phone_e164(phone)
    return phone, email_normal(author.email)


def _lookup(
    platform: str, uids: list[str], contacts: dict[str, tuple[str, str]]
) -> tuple[list[tuple], dict[str, int], dict[str, int]]:
    """The authors' stored identities (with their customers' VIP flags) and, in the same
    statement, the customers known by the authors' phone numbers and e-mail addresses (the root
    of a merged group; the oldest when two share one)."""
    test, param = bulk.any_of("i.platform_user_id", uids)
    names = ("platform_user_id", "id", "customer_id", *_PROFILE)
    columns = ", ".join(f"i.{name}" for name in names)
    sql = (
        f"SELECT {columns}, c.vip, m.vip FROM inbox_identity i "  # noqa: S608
        "LEFT JOIN inbox_customer c ON c.id = i.customer_id "
        "LEFT JOIN inbox_customer m ON m.id = c.merged_into_id "
        f"WHERE i.platform = %s AND {test}"
    )
    params: list[Any] = [platform, param]
    phones = sorted({p for p, _e in contacts.values() if p})
    emails = sorted({e for _p, e in contacts.values() if e})
    if phones or emails:
        # Customer rows have no platform user id; they fill the identity columns as
        # (id, merged_into_id, phone, email) and NULLs.
        phone_test, phone_param = bulk.any_of("phone", phones or [""])
        email_test, email_param = bulk.any_of("email", emails or [""])
        sql += (
            " UNION ALL SELECT NULL, id, merged_into_id, phone, email, NULL, NULL, NULL, NULL, "  # noqa: S608
            f"NULL, NULL FROM inbox_customer WHERE (phone <> '' AND {phone_test}) "
            f"OR (email <> '' AND {email_test})"
        )
        params += [phone_param, email_param]
    rows = bulk.fetch(sql, params)
    by_phone: dict[str, int] = {}
    by_email: dict[str, int] = {}
    for row in sorted((r for r in rows if r[0] is None), key=lambda r: -r[1]):
        _none, pk, merged_into, phone, email = row[:5]
        if phone in phones:
            by_phone[phone] = merged_into or pk  # newest first: the oldest is written last
        if email in emails:
            by_email[email] = merged_into or pk
    return [r for r in rows if r[0] is not None], by_phone, by_email


def _identities_insert(
    platform: str,
    authors: dict[str, InboundAuthor],
    missing: list[str],
    contacts: dict[str, tuple[str, str]],
    known: dict[str, int | None],
    now: dt.datetime,
) -> list[tuple]:
    """Insert the new authors' identities, under the customer they are known as or a new one
    (with their contact details). Returns (platform user id, identity id, customer id)."""
    fresh = [uid for uid in missing if known[uid] is None]
    customers = bulk.insert_rows(
        Customer,
        {
            "display_name": [authors[u].display_name or authors[u].handle for u in fresh],
            "phone": [contacts.get(u, ("", ""))[0] for u in fresh],
            "email": [contacts.get(u, ("", ""))[1] for u in fresh],
        },
        constants={"created_at": now},
    )
    ours = dict(zip(fresh, (pk for (pk,) in customers), strict=True))
    new = [authors[uid] for uid in missing]
    created = bulk.insert_rows(
        Identity,
        {
            "platform_user_id": missing,
            "customer": [known[uid] or ours[uid] for uid in missing],
            **{name: [getattr(a, name) for a in new] for name in _PROFILE},
        },
        constants={"platform": platform, "updated_at": now},
        conflict=("platform", "platform_user_id"),
        returning=("platform_user_id", "id", "customer_id"),
    )
    got = {uid for uid, _pk, _customer in created}
    lost = [uid for uid in missing if uid not in got]
    if lost:
        # Another channel of the same platform created some of them first (its transaction
        # committed while we waited on the unique index): use theirs, drop our spare customers.
        test, param = bulk.any_of("platform_user_id", lost)
        theirs = bulk.fetch(
            f"SELECT platform_user_id, id, customer_id FROM inbox_identity "  # noqa: S608
            f"WHERE platform = %s AND {test}",
            [platform, param],
        )
        created = [*created, *theirs]
        Customer.objects.filter(pk__in=[ours[uid] for uid in lost if uid in ours]).delete()
    return created


def _profiles_update(
    authors: dict[str, InboundAuthor], found: list[tuple], now: dt.datetime
) -> dict[int, Reach]:
    """Profiles change (new handle, more followers): keep the newest, never blank a known value.
    Returns the reach of the identities that were known already."""
    reach: dict[int, Reach] = {}
    changed: dict[str, list[Any]] = {name: [] for name in (*_PROFILE, "updated_at")}
    changed_pks = []
    for row in found:
        author = authors[row[0]]
        old = dict(zip(_PROFILE, row[3:-2], strict=True))
        update: dict[str, Any] = {
            "handle": author.handle or old["handle"],
            "display_name": author.display_name or old["display_name"],
            "avatar_url": author.avatar_url or old["avatar_url"],
            "profile_url": author.profile_url or old["profile_url"],
            "followers": author.followers if author.followers is not None else old["followers"],
            "verified": author.verified,
        }
        reach[row[1]] = Reach(
            update["followers"], bool(update["verified"]), bool(row[-2] or row[-1])
        )
        if any(old[k] != v for k, v in update.items()):
            changed_pks.append(row[1])
            for k, v in update.items():
                changed[k].append(v)
            changed["updated_at"].append(now)
    bulk.update_rows(Identity, changed_pks, changed)
    return reach

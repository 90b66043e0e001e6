"""The authors of an ingested batch as identities and customers: one lookup, one insert each for
the new ones, one update for changed profiles, whatever the batch's size (``inbox.ingest.bulk``)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from channels.base import InboundAuthor, InboundItem
from inbox.engines.priority import Reach
from inbox.ingest import bulk
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
    test, param = bulk.any_of("i.platform_user_id", list(authors))
    columns = ", ".join(
        f"i.{name}" for name in ("platform_user_id", "id", "customer_id", *_PROFILE)
    )
    found = bulk.fetch(
        f"SELECT {columns}, c.vip, m.vip FROM inbox_identity i "  # noqa: S608
        "LEFT JOIN inbox_customer c ON c.id = i.customer_id "
        "LEFT JOIN inbox_customer m ON m.id = c.merged_into_id "
        f"WHERE i.platform = %s AND {test}",
        [platform, param],
    )
    identities = {row[0]: (row[1], row[2]) for row in found}
    reach: dict[int, Reach] = {}
    missing = [uid for uid in authors if uid not in identities]
    if missing:
        _identities_create(platform, authors, missing, now, identities, reach)
    _profiles_refresh(authors, found, now, reach)
    return identities, reach


def _identities_create(
    platform: str,
    authors: dict[str, InboundAuthor],
    missing: list[str],
    now: dt.datetime,
    identities: dict[str, tuple[int, int | None]],
    reach: dict[int, Reach],
) -> None:
    """Create an identity, with a customer of its own, for each of the ``missing`` authors;
    add them to ``identities`` and ``reach``. An identity another channel of the platform
    created meanwhile is used instead, and our spare customer deleted."""
    new = [authors[uid] for uid in missing]
    customers = bulk.insert_rows(
        Customer,
        {"display_name": [a.display_name or a.handle for a in new]},
        constants={"created_at": now},
    )
    customer_ids = [pk for (pk,) in customers]
    created = bulk.insert_rows(
        Identity,
        {
            "platform_user_id": missing,
            "customer": customer_ids,
            **{name: [getattr(a, name) for a in new] for name in _PROFILE},
        },
        constants={"platform": platform, "updated_at": now},
        conflict=("platform", "platform_user_id"),
        returning=("platform_user_id", "id", "customer_id"),
    )
    identities.update({uid: (pk, customer) for uid, pk, customer in created})
    for uid, pk, _customer in created:
        reach[pk] = Reach(authors[uid].followers, bool(authors[uid].verified), False)
    lost = [uid for uid in missing if uid not in identities]
    if lost:
        # Another channel of the same platform created some of them first (its transaction
        # committed while we waited on the unique index): use theirs, drop our spare customers.
        test, param = bulk.any_of("platform_user_id", lost)
        theirs = bulk.fetch(
            f"SELECT platform_user_id, id, customer_id FROM inbox_identity "  # noqa: S608
            f"WHERE platform = %s AND {test}",
            [platform, param],
        )
        identities.update({uid: (pk, customer) for uid, pk, customer in theirs})
        spare = [c for uid, c in zip(missing, customer_ids, strict=True) if uid in set(lost)]
        Customer.objects.filter(pk__in=spare).delete()


def _profiles_refresh(
    authors: dict[str, InboundAuthor],
    found: list[tuple],
    now: dt.datetime,
    reach: dict[int, Reach],
) -> None:
    """Profiles change (new handle, more followers): keep the newest, never blank a known
    value; one update for the identities ``found`` whose profile changed. Their reach, as
    stored after it, goes into ``reach``."""
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

"""Who is asking, read once instead of on every request.

Every inbox request asks whether the user may work, assign or configure, and which teams they
are in: with Django's ``ModelBackend`` that is three queries before the view does anything
(user permissions, group permissions, teams), each planned and run again on every list poll.
Here they are kept in the shared cache under the user's id, checked against a *roles token*
that any change of roles replaces:

- a user's groups or own permissions, a group's permissions, a group or permission deleted;
- a team's members, a team deleted;
- a new user (on SQLite an id can come back after a rolled-back transaction).

The token is replaced at once and again when the changing transaction commits, so a request
that read the old roles during the transaction cannot keep them. Entries also expire after
``ROLES_TTL`` seconds, which bounds how long a change made while the cache was unreachable can
go unseen. With the cache down (``webcare.cache.TolerantRedisCache`` answers "nothing
cached") every request reads the database, as Django would.

The user row comes with their agent profile in one query (``select_related``), which the
inbox reads on every request for the language, time zone and signature.
"""

from __future__ import annotations

import uuid

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Group, Permission
from django.core.cache import cache
from django.db import connection, transaction
from django.db.models.signals import m2m_changed, post_delete, post_save

ROLES_TTL = 60
ROLES_STAMP_KEY = "roles:stamp"


class Roles(tuple):
    """(token, permissions, team ids): a plain tuple in the cache."""

    @property
    def permissions(self) -> frozenset[str]:
        return self[1]

    @property
    def team_ids(self) -> tuple[int, ...]:
        return self[2]


def _key(user) -> str:
    # The database name keeps two databases sharing one cache (the demo and a test run, say)
    # from reading each other's users; superuser status decides permissions on its own.
    return f"roles:{connection.settings_dict['NAME']}:{user.pk}:{int(user.is_superuser)}"


def roles_of(user) -> Roles:
    """The user's permissions and team ids, from the cache when they are current."""
    known = getattr(user, "_webcare_roles", None)
    if known is not None:
        return known
    from inbox.models import Team

    key = _key(user)
    found = cache.get_many([key, ROLES_STAMP_KEY])
    token = found.get(ROLES_STAMP_KEY)
    known = found.get(key)
    if known is None or known[0] != token:
        permissions = ModelBackend().get_all_permissions(user)
        teams = Team.objects.filter(members=user).values_list("id", flat=True)
        known = (token, frozenset(permissions), tuple(teams))
        cache.set(key, known, ROLES_TTL)
    user._webcare_roles = known = Roles(known)
    return known


def roles_changed(**_kwargs) -> None:
    """Every cached role is stale: a new token now, and again once the change commits."""
    cache.set(ROLES_STAMP_KEY, uuid.uuid4().hex, None)
    transaction.on_commit(lambda: cache.set(ROLES_STAMP_KEY, uuid.uuid4().hex, None))


class RoleCachingBackend(ModelBackend):
    """Django's model backend with the user's profile joined in and their permissions read
    through :func:`roles_of`."""

    def get_user(self, user_id):
        model = get_user_model()
        user = model._default_manager.select_related("profile").filter(pk=user_id).first()
        return user if user is not None and self.user_can_authenticate(user) else None

    def get_all_permissions(self, user_obj, obj=None):
        if not user_obj.is_active or user_obj.is_anonymous or obj is not None:
            return set()
        if not hasattr(user_obj, "_perm_cache"):
            user_obj._perm_cache = set(roles_of(user_obj).permissions)
        return user_obj._perm_cache


def connect() -> None:
    from inbox.models import Team

    user_model = get_user_model()
    uid = "inbox.auth.roles"
    for through in (
        user_model.groups.through,
        user_model.user_permissions.through,
        Group.permissions.through,
        Team.members.through,
    ):
        m2m_changed.connect(roles_changed, sender=through, dispatch_uid=f"{uid}.{through}")
    for model in (Group, Permission, Team):
        post_delete.connect(roles_changed, sender=model, dispatch_uid=f"{uid}.del.{model}")

    def user_saved(created: bool = False, **_kwargs) -> None:
        if created:
            roles_changed()

    post_save.connect(user_saved, sender=user_model, weak=False, dispatch_uid=f"{uid}.user")

"""People and tickets for inbox tests: an agent, a teammate, an outsider, a lead, an admin."""

from __future__ import annotations

from django.contrib.auth.models import Group, User

from inbox.ingest.services import ingest_batch
from inbox.models import AgentProfile, Team, Ticket
from tests.factories import item, make_channel


def ensure_roles() -> None:
    """The role groups come from a data migration; transactional tests (the browser tests)
    flush them, so tests create them again the same way."""
    import importlib

    from django.apps import apps

    migration = importlib.import_module("inbox.migrations.0003_roles_and_search")
    migration.create_roles(apps, None)


def person(username: str, role: str | None = "agent", *, team: Team | None = None, **kw) -> User:
    user = User.objects.create_user(
        username=username, password="pw-" + username, first_name=username.title(), **kw
    )
    if role:
        ensure_roles()
        user.groups.add(Group.objects.get(name=role))
    if team:
        team.members.add(user)
    AgentProfile.objects.create(user=user, signature=f"^{username.title()}", time_zone="UTC")
    return user


def tickets(n: int, *, channel=None, team: Team | None = None, prefix: str = "m") -> list[Ticket]:
    channel = channel or make_channel()
    result = ingest_batch(
        channel_id=channel.pk,
        items=[
            item(f"{prefix}{i}", thread=f"{prefix}t{i}", uid=f"{prefix}u{i}", text=f"Hello {i}")
            for i in range(n)
        ],
    )
    found = list(Ticket.objects.filter(pk__in=result.ticket_ids).order_by("pk"))
    if team:
        Ticket.objects.filter(pk__in=result.ticket_ids).update(team=team)
        for t in found:
            t.team = team
    return found


class eager_celery:  # noqa: N801 - used like a function
    """Run Celery tasks in-process (the filesystem broker of the embedded default is not read
    by any worker during tests)."""

    def __enter__(self):
        from webcare.celery import app

        self._app = app
        self._was = app.conf.task_always_eager
        app.conf.task_always_eager = True
        return self

    def __exit__(self, *exc):
        self._app.conf.task_always_eager = self._was

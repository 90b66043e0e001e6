"""The request types the views are written against.

``HttpRequest.user`` is typed ``User | AnonymousUser`` and knows nothing of the attributes our
middleware adds. A view behind a log-in decorator (``login_required``, ``lead_required``,
``admin_required``, ``inbox_view``) takes an ``AuthedRequest``: the user is a real ``User``, the
profile is set (``inbox.core.middleware``) and ``htmx`` is there (``django_htmx``). This is the
pattern django-stubs documents for authenticated views; it is a type only, nothing checks it at
run time. Both apps use it, so it lives in the project package.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.contrib.auth.models import User
from django.http import HttpRequest
from django_htmx.middleware import HtmxDetails

if TYPE_CHECKING:
    from inbox.models import AgentProfile


class HtmxRequest(HttpRequest):
    """Any request: ``django_htmx.middleware.HtmxMiddleware`` sets ``htmx`` on every one."""

    htmx: HtmxDetails


class AuthedRequest(HtmxRequest):
    """A request past a log-in decorator: a signed-in user with their profile."""

    user: User
    profile: AgentProfile

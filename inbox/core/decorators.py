"""What every lead and admin page shares: the role checks."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse

from inbox.core.access import can_assign, can_configure
from webcare.http import AuthedRequest


def _role_required(check: Callable, message: str) -> Callable:
    def decorator(view: Callable) -> Callable:
        @login_required
        @wraps(view)
        def wrapped(request: AuthedRequest, *args, **kwargs) -> HttpResponse:
            if not check(request.user):
                raise PermissionDenied(message)
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


#: Team leads (and admins, who hold every lead permission): anyone else gets 403, nothing changes.
lead_required = _role_required(can_assign, "Only team leads may open this page.")

#: Admins only: channel, user and team configuration.
admin_required = _role_required(can_configure, "Only admins may open this page.")

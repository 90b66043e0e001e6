"""The REST API, ``/api/v1/``: django-ninja over the same services and selectors as the screens.

Every endpoint checks access with ``inbox.core.access`` (as the screen's view does) and then
calls one selector or service; a state change is never written here. The endpoints live in
``inbox.api.endpoints``, one module per resource; this module adds their routers in the
schema's order.
"""

from __future__ import annotations

from inbox.api.endpoints import actions as _actions  # noqa: F401  (ticket actions' routes)
from inbox.api.endpoints import audit as _audit  # noqa: F401  (the audit log's route)
from inbox.api.endpoints import channels, customers, reports, tickets, tokens
from inbox.api.endpoints import webhooks as _webhooks  # noqa: F401  (subscriptions' routes)
from inbox.api.endpoints.base import api

api.add_router("", tickets.router)
api.add_router("", customers.router)
api.add_router("", channels.router)
api.add_router("", reports.router)
api.add_router("", tokens.router)

__all__ = ["api"]

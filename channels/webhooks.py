"""The one URL shape for platform webhooks: ``/webhooks/<kind>/``.

A platform app delivers events for all its accounts to one callback URL, so the connector class
(not a channel) supplies the platform's part: its ``webhook`` intake verifies the signature over
the raw body and says which channels a body is for. ``channels.intake`` does the rest the same
way for every platform: size cap, verify before parse, store the body, answer, ingest in a task.
"""

from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt

from . import intake, registry


@csrf_exempt
@transaction.non_atomic_requests
def receive(request: HttpRequest, kind: str) -> HttpResponse:
    # Never inside a request transaction: the delivery row must be committed before its task is
    # queued and before the platform gets its 200.
    try:
        webhook = registry.connector_class(kind).webhook
    except LookupError:
        raise Http404("unknown channel kind") from None
    if webhook is None:
        raise Http404("this channel kind takes no webhooks")
    return intake.receive(request, webhook)

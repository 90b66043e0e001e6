"""The one URL shape for platform webhooks: ``/webhooks/<kind>/``.

A platform app delivers events for all its accounts to one callback URL, so the connector class
(not a channel) handles the request: it verifies the signature over the raw body, answers fast,
and hands verified events to a Celery task that ingests them through ``inbox.ingest``.
"""

from django.http import Http404, HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt

from . import registry


@csrf_exempt
def receive(request: HttpRequest, kind: str) -> HttpResponse:
    try:
        handler = registry.connector_class(kind).webhook_handler
    except LookupError:
        raise Http404("unknown channel kind") from None
    if handler is None:
        raise Http404("this channel kind takes no webhooks")
    return handler(request)

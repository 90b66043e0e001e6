from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache


@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    """Liveness for load balancers and compose health checks: is the database reachable?"""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        ok = True
    except Exception:  # noqa: BLE001 - any failure means "not healthy"
        ok = False
    return JsonResponse({"database": ok}, status=200 if ok else 503)

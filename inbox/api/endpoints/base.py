"""The API object, its JSON errors and the shared error responses.

Errors are JSON ``{"code", "message"}`` with a stable code (docs/api.md lists them).
"""

from __future__ import annotations

from django.core.exceptions import ObjectDoesNotExist, PermissionDenied
from django.http import Http404
from ninja import NinjaAPI, Schema
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError
from pydantic import field_validator

from inbox.api.auth import ApiError, TokenAuth
from inbox.tickets import services as ticket_services


class WebcareAPI(NinjaAPI):
    def get_openapi_operation_id(self, operation) -> str:
        """``inbox_api_routes_<function>``: operation ids are a contract with generated clients,
        so they name the endpoint's function and stay put when the modules are re-cut."""
        return f"inbox_api_routes_{operation.view_func.__name__}"


api = WebcareAPI(
    title="Webcare API",
    version="1",
    description="The shared inbox's REST API. Authenticate with `Authorization: Bearer <token>`"
    " (create a token on your profile page). See docs/api.md.",
    auth=TokenAuth(),
    urls_namespace="api",
    docs_url="/docs",
    openapi_url="/openapi.json",
)


class QueryIn(Schema):
    """Query parameters whose text has no NUL character: PostgreSQL can neither store nor
    compare one (a 500 from the database), so it is a 422 like any other bad value."""

    @field_validator("*", mode="before")
    @classmethod
    def _no_nul(cls, value):
        if isinstance(value, str) and "\x00" in value:
            raise ValueError("must not contain a NUL character")
        return value


# --- errors -----------------------------------------------------------------------------------
class ErrorOut(Schema):
    code: str
    message: str


def _error(request, status: int, code: str, message: str, headers: dict | None = None):
    response = api.create_response(request, {"code": code, "message": message}, status=status)
    for name, value in (headers or {}).items():
        response[name] = value
    return response


@api.exception_handler(ApiError)
def _api_error(request, exc: ApiError):
    return _error(request, exc.status, exc.code, exc.message, exc.headers)


@api.exception_handler(AuthenticationError)
def _unauthenticated(request, exc):
    return _error(request, 401, "unauthenticated", "A valid API token is required.")


@api.exception_handler(PermissionDenied)
def _forbidden(request, exc):
    return _error(request, 403, "forbidden", str(exc) or "Not allowed.")


@api.exception_handler(Http404)
def _not_found(request, exc):
    return _error(request, 404, "not_found", str(exc) or "Not found.")


@api.exception_handler(ObjectDoesNotExist)
def _no_object(request, exc):
    return _error(request, 404, "not_found", "Not found.")


@api.exception_handler(NinjaValidationError)
def _invalid(request, exc: NinjaValidationError):
    first = exc.errors[0] if exc.errors else {}
    where = ".".join(str(p) for p in first.get("loc", ()))
    message = f"{where}: {first.get('msg', 'invalid')}" if where else "Invalid input."
    return _error(request, 422, "invalid", message)


@api.exception_handler(ticket_services.ActionError)
def _action_error(request, exc):
    code = "collision" if isinstance(exc, ticket_services.Collision) else "not_possible"
    if isinstance(exc, ticket_services.AlreadyClaimed):
        code = "already_claimed"
    return _error(request, 409, code, exc.message)


@api.exception_handler(ValueError)
def _value_error(request, exc):
    return _error(request, 422, "invalid", str(exc))


# ninja's own HTTP errors: 400 for a body that is not JSON, 405 for a method a path lacks.
HTTP_CODES = {400: "malformed_body", 404: "not_found", 405: "method_not_allowed"}


@api.exception_handler(HttpError)
def _http_error(request, exc: HttpError):
    status = exc.status_code
    return _error(request, status, HTTP_CODES.get(status, "error"), str(exc))


ERRORS = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut, 429: ErrorOut}
ACTION_ERRORS = {**ERRORS, 409: ErrorOut}


def _id(value: int) -> int:
    if not 0 < value < 2**63:
        raise Http404("No such object.")
    return value

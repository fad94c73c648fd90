"""What the FastAPI peers of the benchmarks share (Benchmarks/TaskPeer, Benchmarks/TenantPeer).

The conventions of the Swift services that every peer copies: X-API-Key on everything but /health, RFC 9457
problems (DatabaseLayer's APIError), body errors as 400 rather than FastAPI's 422, keys MongoDB would read as
operators refused, and dates written as ISO 8601 with milliseconds and Z.

Environment: API_KEY.
"""

from __future__ import annotations

import hmac
import os
from collections.abc import Awaitable, Callable
from datetime import datetime, timezone
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

API_KEY = os.environ["API_KEY"].encode()


class Problem(Exception):
    """An RFC 9457 problem to answer with, as DatabaseLayer's APIError."""

    TITLES = {400: "Bad Request", 401: "Unauthorized", 404: "Not Found", 409: "Conflict", 500: "Internal Server Error",
              503: "Service Unavailable"}

    def __init__(self, status: int, code: str, detail: str):
        super().__init__(detail)
        self.status, self.code, self.detail = status, code, detail

    def response(self) -> JSONResponse:
        """The problem+json answer."""
        body = {"type": f"urn:prismicx:problem:{self.code}", "title": self.TITLES.get(self.status, "Error"),
                "status": self.status, "detail": self.detail, "code": self.code}
        return JSONResponse(body, status_code=self.status, media_type="application/problem+json")


def check_document(value: Any, field: str) -> None:
    """Rejects keys MongoDB would read as operators or paths, as JSONBodyRules.checkDocument does."""
    if isinstance(value, dict):
        for key, member in value.items():
            if not key or key.startswith("$") or "." in key or "\0" in key:
                raise ValueError(f"{field} contains a key that is empty, starts with '$' or contains '.'.")
            check_document(member, field)
    elif isinstance(value, list):
        for element in value:
            check_document(element, field)


def now_utc() -> datetime:
    """Now, naive UTC with millisecond precision: what BSON stores and Motor returns."""
    now = datetime.now(timezone.utc).replace(tzinfo=None)
    return now.replace(microsecond=now.microsecond // 1000 * 1000)


def iso(value: datetime) -> str:
    """ISO 8601 with milliseconds and Z, as DatabaseLayer's ISO8601.format."""
    return f"{value:%Y-%m-%dT%H:%M:%S}.{value.microsecond // 1000:03d}Z"


def jsonable(value: Any) -> Any:
    """A stored document with its dates as ISO strings."""
    if isinstance(value, datetime):
        return iso(value)
    if isinstance(value, dict):
        return {key: jsonable(member) for key, member in value.items()}
    if isinstance(value, list):
        return [jsonable(element) for element in value]
    return value


def create_app(service: str, lifespan, ready: Callable[[Request], Awaitable[Any]], server_owned: frozenset[str] | None = None,
               classify: Callable[[dict], str | None] | None = None) -> FastAPI:
    """A FastAPI app with the conventions above, `/health` and `/health/ready` (which awaits `ready`).

    A body key the model forbids is `read_only_field`; with `server_owned` given, only those keys are, and any other
    is `unknown_field` (JSONBodyRules' two codes). Any other body error is `invalid_body`, or the code `classify`
    gives the first pydantic error.
    """
    app = FastAPI(lifespan=lifespan, openapi_url=None, docs_url=None, redoc_url=None)

    @app.exception_handler(Problem)
    async def problem_handler(_: Request, problem: Problem) -> JSONResponse:
        """Problems as problem+json."""
        return problem.response()

    @app.exception_handler(RequestValidationError)
    async def validation_handler(_: Request, error: RequestValidationError) -> JSONResponse:
        """Body errors as 400, not FastAPI's 422; a server-owned key is read_only_field as in the Swift services."""
        errors = error.errors()
        extra = [item for item in errors if item.get("type") == "extra_forbidden"]
        code = "invalid_body"
        if extra:
            owned = server_owned is None or any(item.get("loc", ())[-1:] and item["loc"][-1] in server_owned for item in extra)
            code = "read_only_field" if owned else "unknown_field"
        first = errors[0] if errors else {}
        if not extra and classify is not None:
            code = classify(first) or code
        detail = f"{'.'.join(str(part) for part in first.get('loc', ()))}: {first.get('msg', 'invalid body')}"
        return Problem(400, code, detail).response()

    @app.middleware("http")
    async def api_key(request: Request, call_next):
        """X-API-Key on everything but the health endpoints, compared in constant time."""
        if not request.url.path.startswith("/health"):
            given = request.headers.get("x-api-key", "").encode()
            if not hmac.compare_digest(given, API_KEY):
                return Problem(401, "unauthorized", "Send the service API key in the X-API-Key header.").response()
        return await call_next(request)

    @app.get("/health")
    async def health() -> dict[str, str]:
        """Liveness."""
        return {"status": "ok", "service": service}

    @app.get("/health/ready")
    async def health_ready(request: Request) -> dict[str, str]:
        """Readiness: a round trip to each store."""
        await ready(request)
        return {"status": "pass", "service": service}

    return app

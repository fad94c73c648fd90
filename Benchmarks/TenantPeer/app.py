"""The peer of tenant-mgmt-service for scripts/bench/tenant-path.sh: the same tenant API in FastAPI + Motor (+ asyncpg).

Only what the benchmark exercises: create (with the service's whole provisioning: the four `tenant_databases`
records, `tenant_<id>_db.user_insights` with its indexes, the three PostgreSQL schemas under the tenant's advisory
lock, then `active`), get by id and update (PUT), with the Swift service's stored shape (`name_key`, `list_key`,
dates as BSON dates), indexes, filters (`{"$eq": …}`), status compare-and-set and response shape (connection string
masked, databases listed). X-API-Key auth, pydantic validation of every body with the service's rules (ASCII name,
tier and region tokens, settings keys no operator or path, read-only and unknown keys refused) and RFC 9457 problems.
Not copied: the Redis cache (the benchmark runs the service without Redis), the takeover of a `failed` tenant by a
repeated create, metrics and logging. Run it as a production FastAPI app would run: `uvicorn app:app --workers 2`.

Environment, the service's names: API_KEY, TENANT_MONGODB_URI, TENANT_REGISTRY_DB (tenant_registry),
TENANT_POSTGRES_URI, TENANT_DB_CONNECTION_STRING (default: TENANT_MONGODB_URI), PG_POOL_MAX (per worker, 5).
"""

from __future__ import annotations

import os
import re
import secrets
import sys
from contextlib import asynccontextmanager
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

import asyncpg
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from motor.motor_asyncio import AsyncIOMotorClient
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic_core import PydanticCustomError
from pymongo import ASCENDING, IndexModel
from pymongo.errors import DuplicateKeyError, OperationFailure

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "PeerCommon"))
from peer_common import Problem, check_document, create_app, iso, jsonable, now_utc  # noqa: E402

TENANT_ID = r"^[a-z0-9][a-z0-9-]{0,39}$"
TENANT_PATTERN = re.compile(TENANT_ID)
# TenantValidation.name: letters, digits, space and _ . , & ' ( ) -, a letter or digit first, no space last.
Name = Annotated[str, Field(max_length=100, pattern=r"^[A-Za-z0-9]([A-Za-z0-9 _.,&'()-]*[A-Za-z0-9_.,&'()-])?$")]
# TenantValidation.token: tier and region.
Token = Annotated[str, Field(max_length=32, pattern=r"^[a-z0-9][a-z0-9_-]*$")]
# Keys the service owns on either route (CreateTenantRequest.serverOwnedFields, UpdateTenantRequest.rules): a body
# key outside a model is read_only_field when it is one of these, unknown_field otherwise.
SERVER_OWNED = frozenset({"_id", "status", "created_at", "updated_at", "provisioning_error", "deletion_error", "name_key",
                          "tenant_id", "database_config"})

PLUGINS = ["crm", "sales", "marketing"]
ADVISORY_LOCK_NAMESPACE = 7301
TENANT_INDEXES = [
    IndexModel([("tenant_id", ASCENDING)], name="tenant_id_unique", unique=True),
    IndexModel([("name_key", ASCENDING)], name="name_key_unique", unique=True),
    IndexModel([("status", ASCENDING)], name="status"),
    IndexModel([("created_at", ASCENDING)], name="created_at"),
    IndexModel([("list_key", ASCENDING)], name="list_key"),
]
DATABASE_INDEXES = [
    IndexModel([("database_key", ASCENDING)], name="database_key_unique", unique=True),
    IndexModel([("tenant_id", ASCENDING)], name="tenant_id"),
]
INSIGHTS_INDEXES = [
    IndexModel([("user_id", ASCENDING)], name="user_id_unique", unique=True),
    IndexModel([("topics.name", ASCENDING)], name="topics_name"),
    IndexModel([("updated_at", ASCENDING)], name="updated_at"),
]
SECRET_PARAMETERS = ("password", "secret", "token", "sslkey", "credential")


def plain_settings(value: dict[str, Any] | None) -> dict[str, Any] | None:
    """Settings are stored as given, so no key may turn into query syntax (`invalid_key`, as JSONBodyRules)."""
    if value is not None:
        try:
            check_document(value, "settings")
        except ValueError as error:
            raise PydanticCustomError("invalid_key", str(error)) from None
    return value


def error_code(error: dict) -> str | None:
    """The service's code for a body error: a value outside a rule is `invalid_input` (APIError.badRequest's
    default), an operator or path key `invalid_key`; a missing field or a wrong type stays `invalid_body`."""
    if error.get("type") in ("string_pattern_mismatch", "string_too_long", "string_too_short", "literal_error"):
        return "invalid_input"
    return "invalid_key" if error.get("type") == "invalid_key" else None


class DatabaseConfig(BaseModel):
    """`database_config` of a create: only `type` may be chosen."""

    model_config = ConfigDict(extra="forbid")
    type: Literal["shared", "dedicated"] | None = None


class CreateTenant(BaseModel):
    """POST /api/v1/tenants."""

    model_config = ConfigDict(extra="forbid")
    tenant_id: Annotated[str, Field(pattern=TENANT_ID)] | None = None
    name: Name
    tier: Token | None = None
    region: Token | None = None
    settings: dict[str, Any] | None = None
    database_config: DatabaseConfig | None = None

    @field_validator("settings")
    @classmethod
    def plain(cls, value: dict[str, Any] | None) -> dict[str, Any] | None:
        """No operator or path keys."""
        return plain_settings(value)


class UpdateTenant(BaseModel):
    """PUT /api/v1/tenants/{id}: any subset of name, tier, region, settings (replaced whole) and status."""

    model_config = ConfigDict(extra="forbid")
    name: Name | None = None
    tier: Token | None = None
    region: Token | None = None
    settings: dict[str, Any] | None = None
    status: Literal["active", "suspended"] | None = None

    @field_validator("settings")
    @classmethod
    def plain(cls, value: dict[str, Any] | None) -> dict[str, Any] | None:
        """No operator or path keys."""
        return plain_settings(value)

    @model_validator(mode="after")
    def something(self) -> UpdateTenant:
        """An empty update is refused."""
        if all(value is None for value in (self.name, self.tier, self.region, self.settings, self.status)):
            raise ValueError("Send at least one of name, tier, region, settings, status.")
        return self


def mask(value: str) -> str:
    """ConnectionStringMask.mask: the password of the user info and secret query parameters as ****."""
    scheme, found, rest = value.partition("://")
    if not found:
        return "****" if value else value
    location, question, query = rest.partition("?")
    user_info, at, host = location.rpartition("@")
    if at:
        user = user_info.split(":", 1)[0]
        location = f"{user}:****@{host}" if ":" in user_info else f"{user}@{host}"
    if not question:
        return f"{scheme}://{location}"
    pairs = []
    for pair in query.split("&"):
        key, equals, _ = pair.partition("=")
        pairs.append(f"{key}=****" if equals and any(word in key.lower() for word in SECRET_PARAMETERS) else pair)
    return f"{scheme}://{location}?{'&'.join(pairs)}"


def as_date(value: Any) -> Any:
    """A stored date: nx-27017 keeps dates written by updates as text ("2026-12-03 14:19:52.304000")."""
    return datetime.fromisoformat(value) if isinstance(value, str) else value


def list_key(created_at: datetime, tenant_id: str) -> str:
    """Tenant.listKey: creation time in zero-padded milliseconds, then the id."""
    epoch = datetime(1970, 1, 1)
    return f"{round((created_at - epoch).total_seconds() * 1000):015d}:{tenant_id}"


def id_filter(tenant_id: str, statuses: list[str] | None = None) -> dict[str, Any]:
    """`{"tenant_id": {"$eq": id}}`, with the status compare-and-set when `statuses` is given."""
    query: dict[str, Any] = {"tenant_id": {"$eq": tenant_id}}
    if statuses is not None:
        query["status"] = {"$in": statuses}
    return query


def checked_id(raw: str) -> str:
    """The path's tenant id, or 400 invalid_tenant."""
    if not TENANT_PATTERN.match(raw):
        raise Problem(400, "invalid_tenant",
                      "tenant_id must be 1-40 characters of lowercase letters, digits and '-', starting with a letter or digit.")
    return raw


def underscored(tenant_id: str) -> str:
    """The id as a name part: `-` mapped to `_`."""
    return tenant_id.replace("-", "_")


async def tenant_response(request: Request, tenant_id: str) -> dict[str, Any] | None:
    """TenantManager.tenant: the registry document and its database records, as the API shows them."""
    state = request.app.state
    tenant = await state.tenants.find_one(id_filter(tenant_id))
    if tenant is None:
        return None
    records = await state.databases.find({"tenant_id": {"$eq": tenant_id}}).sort("database_key", ASCENDING).to_list(None)
    records.sort(key=lambda record: (0 if record.get("primary") else 1, record["name"]))
    stored = tenant["database_config"]
    view = {
        "tenant_id": tenant["tenant_id"], "name": tenant["name"], "tier": tenant["tier"], "region": tenant["region"],
        "status": tenant["status"],
        "database_config": {
            "type": stored["type"], "database_name": stored["database_name"], "connection_string": mask(stored["connection_string"]),
            "postgres_database": stored["postgres_database"],
            "mongodb_databases": [record["name"] for record in records if record["type"] == "mongodb"],
            "postgresql_schemas": [record["name"] for record in records if record["type"] == "postgresql"],
        },
        "settings": tenant.get("settings", {}),
        "created_at": iso(as_date(tenant["created_at"])), "updated_at": iso(as_date(tenant["updated_at"])),
    }
    for failure in ("provisioning_error", "deletion_error"):
        if failure in tenant:
            view[failure] = jsonable({**tenant[failure], "occurred_at": as_date(tenant[failure]["occurred_at"])})
    return view


async def record_database(request: Request, tenant_id: str, kind: str, name: str, now: datetime) -> None:
    """MongoTenantRepository.record(allowExisting: true): insert, and accept the tenant's own existing record."""
    databases = request.app.state.databases
    key = f"{kind}:{name}"
    try:
        await databases.insert_one({"tenant_id": tenant_id, "type": kind, "name": name, "primary": True, "created_at": now,
                                    "database_key": key})
    except DuplicateKeyError:
        existing = await databases.find_one({"database_key": {"$eq": key}})
        if existing is None or existing["tenant_id"] != tenant_id:
            raise Problem(409, "conflict", f"The {kind} database {name} already exists.") from None


async def provision(request: Request, tenant_id: str) -> None:
    """TenantManager.provision: records, the tenant's MongoDB database, its schemas; `failed` when a step fails."""
    state = request.app.state
    step = "register_databases"
    try:
        now = now_utc()
        await record_database(request, tenant_id, "mongodb", f"tenant_{underscored(tenant_id)}_db", now)
        for plugin in PLUGINS:
            await record_database(request, tenant_id, "postgresql", f"tenant_{underscored(tenant_id)}_{plugin}", now)
        step = "mongodb_database"
        database = state.client[f"tenant_{underscored(tenant_id)}_db"]
        try:
            await database.command("create", "user_insights")
        except OperationFailure as error:
            if error.code != 48:  # NamespaceExists: a repeat or a racing request
                raise
        await database["user_insights"].create_indexes(INSIGHTS_INDEXES)
        step = "postgresql_schemas"
        async with state.postgres.acquire() as connection, connection.transaction():
            await connection.execute("SELECT pg_advisory_xact_lock($1, hashtext($2))", ADVISORY_LOCK_NAMESPACE, tenant_id)
            for plugin in PLUGINS:
                # Identifiers cannot be bound; the id has been validated, so the quoted name is safe.
                await connection.execute(f'CREATE SCHEMA IF NOT EXISTS "tenant_{underscored(tenant_id)}_{plugin}"')
    except (OperationFailure, asyncpg.PostgresError, OSError) as error:
        failure = {"step": step, "code": "internal_error", "message": type(error).__name__, "occurred_at": now_utc()}
        await state.tenants.update_one(id_filter(tenant_id, ["provisioning"]),
                                       {"$set": {"updated_at": now_utc(), "status": "failed", "provisioning_error": failure}})
        raise Problem(500, "provisioning_failed", f"Tenant {tenant_id}: provisioning failed at step {step}.") from error
    await state.tenants.update_one(id_filter(tenant_id, ["provisioning", "failed"]),
                                   {"$set": {"updated_at": now_utc(), "status": "active"}, "$unset": {"provisioning_error": ""}})


@asynccontextmanager
async def lifespan(app: FastAPI):
    """One Motor client and one asyncpg pool per worker process (made after uvicorn forks), the indexes before traffic."""
    mongo_uri = os.environ["TENANT_MONGODB_URI"]
    postgres_uri = os.environ["TENANT_POSTGRES_URI"]
    client = AsyncIOMotorClient(mongo_uri, appname="tenant-peer", tz_aware=False)
    registry = client[os.environ.get("TENANT_REGISTRY_DB", "tenant_registry")]
    app.state.client, app.state.tenants, app.state.databases = client, registry["tenants"], registry["tenant_databases"]
    app.state.connection_string = os.environ.get("TENANT_DB_CONNECTION_STRING", mongo_uri)
    app.state.postgres_database = urlsplit(postgres_uri).path.lstrip("/") or "postgres"
    await app.state.tenants.create_indexes(TENANT_INDEXES)
    await app.state.databases.create_indexes(DATABASE_INDEXES)
    size = int(os.environ.get("PG_POOL_MAX", "5"))
    app.state.postgres = await asyncpg.create_pool(postgres_uri, min_size=1, max_size=size)
    yield
    await app.state.postgres.close()
    client.close()


async def ping(request: Request) -> None:
    """Readiness: a round trip to MongoDB and one to PostgreSQL."""
    await request.app.state.tenants.database.command("ping")
    await request.app.state.postgres.fetchval("SELECT 1")


app = create_app("tenant-peer", lifespan, ping, SERVER_OWNED, error_code)


@app.post("/api/v1/tenants", status_code=201)
async def create_tenant(body: CreateTenant, request: Request) -> JSONResponse:
    """Registers the tenant as `provisioning`, provisions it and answers 201 with the active tenant and `Location`."""
    if body.database_config is not None and body.database_config.type == "dedicated":
        raise Problem(400, "unsupported_database_type",
                      "database_config.type dedicated is not provisioned by this service; dedicated servers are set up by operators.")
    state = request.app.state
    for attempt in range(3):
        # A generated id may collide (32 random bits): a fresh one then, as TenantManager.create does.
        tenant_id = body.tenant_id or f"tenant-{secrets.randbits(32):08x}"
        now = now_utc()
        tenant = {
            "tenant_id": tenant_id, "name": body.name, "tier": body.tier or "standard", "region": body.region or "default",
            "status": "provisioning",
            "database_config": {"type": "shared", "database_name": f"tenant_{underscored(tenant_id)}_db",
                                "connection_string": state.connection_string, "postgres_database": state.postgres_database},
            "settings": body.settings or {}, "created_at": now, "updated_at": now,
            "name_key": body.name.lower(), "list_key": list_key(now, tenant_id),
        }
        try:
            await state.tenants.insert_one(tenant)
        except DuplicateKeyError:
            existing = await state.tenants.find_one(id_filter(tenant_id))
            if body.tenant_id is None and existing is not None and existing["name_key"] != tenant["name_key"] and attempt < 2:
                continue
            raise Problem(409, "conflict", "A tenant with this id or name already exists.") from None
        await provision(request, tenant_id)
        response = await tenant_response(request, tenant_id)
        if response is None:
            raise Problem(404, "not_found", f"Tenant {tenant_id} does not exist.")
        return JSONResponse(response, status_code=201, headers={"Location": f"/api/v1/tenants/{tenant_id}"})
    raise Problem(409, "conflict", "A tenant with this id or name already exists.")


@app.get("/api/v1/tenants/{tenant_id}")
async def get_tenant(tenant_id: str, request: Request) -> JSONResponse:
    """One tenant with its databases listed."""
    response = await tenant_response(request, checked_id(tenant_id))
    if response is None:
        raise Problem(404, "not_found", f"Tenant {tenant_id} does not exist.")
    return JSONResponse(response)


@app.put("/api/v1/tenants/{tenant_id}")
async def update_tenant(tenant_id: str, body: UpdateTenant, request: Request) -> JSONResponse:
    """One `$set` under the status compare-and-set (TenantManager.update), then the tenant as GET shows it."""
    tenant_id = checked_id(tenant_id)
    changes: dict[str, Any] = {"updated_at": now_utc()}
    if body.name is not None:
        changes.update(name=body.name, name_key=body.name.lower())
    for field in ("tier", "region", "settings", "status"):
        value = getattr(body, field)
        if value is not None:
            changes[field] = value
    allowed = ["provisioning", "active", "suspended", "failed"] if body.status is None else ["active", "suspended"]
    tenants = request.app.state.tenants
    try:
        result = await tenants.update_one(id_filter(tenant_id, allowed), {"$set": changes})
    except DuplicateKeyError:
        raise Problem(409, "conflict", "Another tenant already has this name.") from None
    if result.matched_count != 1:
        current = await tenants.find_one(id_filter(tenant_id))
        if current is None:
            raise Problem(404, "not_found", f"Tenant {tenant_id} does not exist.")
        raise Problem(409, "invalid_state", f"Tenant {tenant_id} is {current['status']}; status can only change between active "
                      "and suspended (use /provision for a failed tenant).")
    response = await tenant_response(request, tenant_id)
    if response is None:
        raise Problem(404, "not_found", f"Tenant {tenant_id} does not exist.")
    return JSONResponse(response)

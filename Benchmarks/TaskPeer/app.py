"""The peer of task-repo-service for scripts/bench/mongo-path.sh: the same task API in FastAPI + Motor.

Only what the benchmark exercises: create, get by id, claim-next and complete, with the Swift service's field
names, queue order, claim update, indexes and projection, X-API-Key auth, optional X-Tenant-ID scoping, pydantic
validation of every body and RFC 9457 problems. Run it as a production FastAPI app would run:
`uvicorn app:app --workers 2` (uvloop and httptools from uvicorn[standard]).

Environment: API_KEY, MONGODB_URI, MONGODB_DATABASE (task_repository), MONGODB_TASKS_COLLECTION (tasks).
"""

from __future__ import annotations

import os
import re
import sys
import uuid
from contextlib import asynccontextmanager
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Annotated, Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from motor.motor_asyncio import AsyncIOMotorClient
from pydantic import BaseModel, ConfigDict, Field, field_validator
from pymongo import ASCENDING, DESCENDING, IndexModel, ReturnDocument
from pymongo.errors import DuplicateKeyError

# The conventions both peers share (auth, problems, dates): Benchmarks/PeerCommon.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "PeerCommon"))
from peer_common import Problem, check_document, create_app, jsonable, now_utc  # noqa: E402

TENANT_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]{0,39}$")
TAG_NAME_PATTERN = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")
# task_type, worker_id, idempotency_key, filters: 1-128 printable ASCII without spaces, as TaskValidation.identifier.
Identifier = Annotated[str, Field(min_length=1, max_length=128, pattern=r"^[!-~]+$")]

# The Swift service's queue order and projection (MongoTaskRepository.queueOrder / .projection).
QUEUE_ORDER = [("priority", DESCENDING), ("created_at", ASCENDING), ("task_id", ASCENDING)]
PROJECTION = {"_id": 0}
INDEXES = [
    IndexModel([("task_id", ASCENDING)], name="task_id_unique", unique=True),
    IndexModel([("tenant_id", ASCENDING), ("status", ASCENDING), ("priority", DESCENDING), ("created_at", ASCENDING)],
               name="ready_queue"),
    IndexModel([("status", ASCENDING), ("lease_expires_at", ASCENDING)], name="expired_leases"),
    IndexModel([("tenant_id", ASCENDING), ("idempotency_key", ASCENDING)], name="tenant_idempotency_key", unique=True,
               partialFilterExpression={"idempotency_key": {"$exists": True}}),
]


class CreateTask(BaseModel):
    """POST /api/v1/tasks: the client-owned fields; any other key is server-owned and rejected."""

    model_config = ConfigDict(extra="forbid")
    task_type: Identifier
    request: dict[str, Any] = Field(default_factory=dict)
    template: dict[str, Any] = Field(default_factory=dict)
    tags: Annotated[dict[str, Annotated[str, Field(max_length=256)]], Field(max_length=32)] = Field(default_factory=dict)
    priority: Annotated[int, Field(ge=-1000, le=1000)] = 0
    run_after: datetime | None = None
    max_attempts: Annotated[int, Field(ge=1, le=100)] = 3
    idempotency_key: Identifier | None = None

    @field_validator("request", "template")
    @classmethod
    def plain_document(cls, value: dict[str, Any], info) -> dict[str, Any]:
        """Stored as given, so no key may turn into query syntax."""
        check_document(value, info.field_name)
        return value

    @field_validator("tags")
    @classmethod
    def tag_names(cls, value: dict[str, str]) -> dict[str, str]:
        """Tag names become `tags.<name>` paths: plain names only."""
        for key in value:
            if not TAG_NAME_PATTERN.match(key):
                raise ValueError("tag names must be 1-64 letters, digits or underscores, not starting with a digit.")
        return value


class ClaimNext(BaseModel):
    """POST /api/v1/tasks/claim."""

    worker_id: Identifier
    lease_seconds: Annotated[int, Field(ge=1, le=3600)]
    task_type: Identifier | None = None
    service: Identifier | None = None


class Complete(BaseModel):
    """POST /api/v1/tasks/{task_id}/complete."""

    claim_token: uuid.UUID
    result: Any = None

    @field_validator("result")
    @classmethod
    def plain_result(cls, value: Any) -> Any:
        """Stored as given, like request and template."""
        check_document(value, "result")
        return value


def public_view(task: dict[str, Any], include_claim_token: bool = False) -> dict[str, Any]:
    """What clients see: no internal counter, and the claim token only in the claimer's own answers."""
    task.pop("attempts_remaining", None)
    if not include_claim_token:
        task.pop("claim_token", None)
    return jsonable(task)


def scope_filter(request: Request) -> dict[str, Any]:
    """One tenant's tasks, or without X-Tenant-ID only tasks created without a tenant (TaskScope.filter)."""
    tenant = request.headers.get("x-tenant-id")
    if tenant is None:
        return {"tenant_id": {"$exists": False}}
    if not TENANT_PATTERN.match(tenant):
        raise Problem(400, "invalid_tenant", "X-Tenant-ID must match ^[a-z0-9][a-z0-9-]{0,39}$.")
    return {"tenant_id": {"$eq": tenant}}


def task_id_of(raw: str) -> str:
    """The path's task id, canonical lowercase."""
    try:
        return str(uuid.UUID(raw))
    except ValueError:
        raise Problem(400, "invalid_task_id", "task_id must be a UUID.") from None


def ready_filter(scope: dict[str, Any], body: ClaimNext, now: datetime) -> dict[str, Any]:
    """Due pending tasks or expired leases with attempts left; the common equalities in each branch (listFilter)."""
    common = dict(scope)
    if body.task_type is not None:
        common["task_type"] = {"$eq": body.task_type}
    if body.service is not None:
        common["tags.service"] = {"$eq": body.service}
    pending = {**common, "status": {"$eq": "pending"}, "run_after": {"$lte": now}}
    expired = {**common, "status": {"$eq": "claimed"}, "lease_expires_at": {"$lte": now}, "attempts_remaining": {"$gt": 0}}
    return {"$or": [pending, expired]}


@asynccontextmanager
async def lifespan(app: FastAPI):
    """One Motor client per worker process (created after uvicorn forks), and the indexes before traffic."""
    client = AsyncIOMotorClient(os.environ["MONGODB_URI"], appname="task-peer", tz_aware=False)
    database = client[os.environ.get("MONGODB_DATABASE", "task_repository")]
    app.state.tasks = database[os.environ.get("MONGODB_TASKS_COLLECTION", "tasks")]
    await app.state.tasks.create_indexes(INDEXES)
    yield
    client.close()


async def ping(request: Request) -> None:
    """Readiness: a round trip to MongoDB."""
    await request.app.state.tasks.database.command("ping")


app = create_app("task-peer", lifespan, ping)


@app.post("/api/v1/tasks", status_code=201)
async def create_task(body: CreateTask, request: Request) -> JSONResponse:
    """Creates a pending task; a reused idempotency key answers 200 with the first task."""
    scope = scope_filter(request)
    tasks = request.app.state.tasks
    tenant = request.headers.get("x-tenant-id")
    if body.idempotency_key is not None:
        existing = await tasks.find_one({**scope, "idempotency_key": {"$eq": body.idempotency_key}}, PROJECTION)
        if existing is not None:
            return JSONResponse(public_view(existing), status_code=200)
    now = now_utc()
    run_after = body.run_after or now
    if run_after.tzinfo is not None:
        run_after = run_after.astimezone(timezone.utc).replace(tzinfo=None)
    # The Swift service's stored shape and key order (TaskItem, nulls removed).
    task: dict[str, Any] = {"task_id": str(uuid.uuid4())}
    if tenant is not None:
        task["tenant_id"] = tenant
    task.update(task_type=body.task_type, request=body.request, template=body.template, tags=body.tags,
                priority=body.priority, run_after=run_after, max_attempts=body.max_attempts)
    if body.idempotency_key is not None:
        task["idempotency_key"] = body.idempotency_key
    task.update(status="pending", attempts=0, attempts_remaining=body.max_attempts, errors=[], created_at=now, updated_at=now)
    try:
        # insert_one adds _id to the dict it is given: insert a copy so the answer matches the projection.
        await tasks.insert_one(dict(task))
    except DuplicateKeyError:
        existing = await tasks.find_one({**scope, "idempotency_key": {"$eq": body.idempotency_key}}, PROJECTION)
        if existing is None:
            raise
        return JSONResponse(public_view(existing), status_code=200)
    return JSONResponse(public_view(task), status_code=201)


@app.post("/api/v1/tasks/claim")
async def claim_next(body: ClaimNext, request: Request) -> Response:
    """Claims the next ready task in queue order with one findAndModify; 204 when none is ready."""
    now = now_utc()
    update = {
        "$set": {"status": "claimed", "claimed_by": body.worker_id, "claim_token": str(uuid.uuid4()),
                 "lease_expires_at": now + timedelta(seconds=body.lease_seconds), "updated_at": now},
        "$inc": {"attempts": 1, "attempts_remaining": -1},
    }
    task = await request.app.state.tasks.find_one_and_update(
        ready_filter(scope_filter(request), body, now), update, sort=QUEUE_ORDER, projection=PROJECTION,
        return_document=ReturnDocument.AFTER)
    if task is None:
        return Response(status_code=204)
    return JSONResponse(public_view(task, include_claim_token=True))


@app.get("/api/v1/tasks/{task_id}")
async def get_task(task_id: str, request: Request) -> JSONResponse:
    """One task in scope, without its claim token."""
    task_id = task_id_of(task_id)
    task = await request.app.state.tasks.find_one({**scope_filter(request), "task_id": {"$eq": task_id}}, PROJECTION)
    if task is None:
        raise Problem(404, "not_found", f"No task {task_id} for this tenant.")
    return JSONResponse(public_view(task))


@app.post("/api/v1/tasks/{task_id}/complete")
async def complete_task(task_id: str, body: Complete, request: Request) -> JSONResponse:
    """Completes the task while the given claim token holds it; otherwise 404 or 409, changing nothing."""
    task_id = task_id_of(task_id)
    scope = scope_filter(request)
    now = now_utc()
    held = {**scope, "task_id": {"$eq": task_id}, "status": {"$eq": "claimed"}, "claim_token": {"$eq": str(body.claim_token)}}
    changes: dict[str, Any] = {"status": "completed", "completed_at": now, "updated_at": now}
    if body.result is not None:
        changes["result"] = body.result
    tasks = request.app.state.tasks
    task = await tasks.find_one_and_update(
        held, {"$set": changes, "$unset": {"claim_token": "", "lease_expires_at": ""}}, projection=PROJECTION,
        return_document=ReturnDocument.AFTER)
    if task is not None:
        return JSONResponse(public_view(task))
    current = await tasks.find_one({**scope, "task_id": {"$eq": task_id}}, PROJECTION)
    if current is None:
        raise Problem(404, "not_found", f"No task {task_id} for this tenant.")
    if current["status"] == "claimed":
        raise Problem(409, "conflict", "The claim token does not hold this task (another worker claimed it).")
    raise Problem(409, "conflict", f"The task is {current['status']}, not claimed.")

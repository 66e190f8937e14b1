"""Every error leaves the server as {"error": {"code", "message", ...}}: a sentence a person can
act on, and a code a program can branch on. Tracebacks stay in the log.

Routes raise `DomainError`s (`bots.core.errors`) and never catch them: one handler turns any
of them into a response, its status looked up by code in `STATUS`, the one table of HTTP
statuses (the domain knows none), with Retry-After (header and `retry_after` field) when the
error says waiting helps. `ApiError` is the HTTP shell's own refusals (credentials, origins):
a DomainError whose raise site words the message.
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy import exc as sql
from starlette.exceptions import HTTPException as StarletteHTTPException

from bots.core.errors import DomainError, InvalidRequest, SearchUnavailable, retry_seconds, validation_problems
from bots.schemas.errors import ErrorBody
from bots.store.db import unavailable
from knowledge.vector_index import VectorStoreUnavailable

log = logging.getLogger("prompteur.http")

STATUS: dict[str, int] = {
    # credentials and who may do what
    "unauthorized": 401,
    "publishable_key": 403,
    "wrong_bot": 403,
    "wrong_conversation": 403,
    "origin_not_allowed": 403,
    "rate_limited": 429,
    # references to things that are not there
    "not_found": 404,
    "bot_not_found": 404,
    "bot_not_published": 404,
    "conversation_not_found": 404,
    "message_not_found": 404,
    "document_not_found": 404,
    "job_not_found": 404,
    "key_not_found": 404,
    "version_not_found": 404,
    "test_set_not_found": 404,
    "eval_run_not_found": 404,
    "handoff_not_found": 404,
    "corrected_answer_not_found": 404,
    "review_item_not_found": 404,
    # the state forbids it
    "not_published": 409,
    "invalid_stored_spec": 409,
    "conversation_too_long": 409,
    "request_in_progress": 409,
    "request_failed": 409,
    "document_busy": 409,
    "publish_gate_refused": 409,
    "no_test_cases": 409,
    "handoff_closed": 409,
    # the request itself is wrong
    "message_too_long": 413,
    "history_too_long": 413,
    "empty_message": 422,
    "invalid_request": 422,
    "invalid_spec": 422,
    "invalid_test_cases": 422,
    "invalid_corrected_answer": 422,
    "contact_missing": 422,
    "no_files": 422,
    "unknown_embedding_model": 422,
    "not_a_publishable_key": 422,
    # answering failed: 503 when trying again later may help, 502 when the provider is wrong
    "retrieval_failed": 503,
    "model_not_configured": 503,
    "model_unavailable": 503,
    "model_rate_limited": 503,
    "model_error": 502,
    "model_auth_failed": 502,
    "model_bad_request": 502,
    "model_timeout": 502,
    "model_stream_interrupted": 502,
    "internal_error": 500,
    "database_unavailable": 503,
    "search_unavailable": 503,
    # website knowledge (issue #16)
    "web_source_not_found": 404,
    "web_sync_not_found": 404,
    "web_source_busy": 409,
    "address_refused": 422,
    "invalid_url": 422,
    "scheme_refused": 422,
    # team use: accounts, roles, tokens (issue #15, item 10)
    "forbidden": 403,
    "login_failed": 401,
    "user_not_found": 404,
    "token_not_found": 404,
    "name_taken": 409,
    "last_owner": 409,
    "weak_password": 422,
    "invalid_user": 422,
    "wrong_password": 422,
    # hardening (issue #17): the server's disk is full
    "storage_full": 507,
}


class ApiError(DomainError):
    """A refusal of the HTTP shell, worded where it is raised; `headers` go on the response."""

    def __init__(self, code: str, message: str, *, headers: dict[str, str] | None = None, **kw):
        super().__init__(message=message, **kw)
        self.code = code  # type: ignore[misc]  # per instance: the shell's codes are many
        self.headers = headers or {}


def error_body(code: str, message: str, **extra) -> dict:
    return {"error": {"code": code, "message": message, **extra}}


def error_response(err: DomainError) -> JSONResponse:
    status = STATUS.get(err.code, 500)
    if status >= 500:
        log.error("%s", err.operator_message)
    headers = dict(getattr(err, "headers", None) or {})
    if err.retry_after is not None:
        headers["Retry-After"] = str(retry_seconds(err.retry_after))
    return JSONResponse({"error": err.public()}, status_code=status, headers=headers or None)


def install(app: FastAPI) -> None:
    _document_error_bodies(app)

    @app.exception_handler(DomainError)
    async def _domain_error(_: Request, exc: DomainError):
        return error_response(exc)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError):
        return error_response(InvalidRequest(problems=validation_problems(exc.errors(), limit=20)))

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException):
        code = {404: "not_found", 405: "method_not_allowed", 401: "unauthorized"}.get(exc.status_code, "http_error")
        message = exc.detail if isinstance(exc.detail, str) else "Request failed."
        if exc.status_code == 404 and message == "Not Found":
            message = "Nothing here: check the address."
        return JSONResponse(
            error_body(code, message), status_code=exc.status_code, headers=getattr(exc, "headers", None)
        )

    @app.exception_handler(sql.OperationalError)
    @app.exception_handler(sql.TimeoutError)
    @app.exception_handler(Exception)  # also what middlewares raise (they look up credentials)
    async def _unexpected(_: Request, exc: Exception):
        # A database that is down or saturated: 503 and Retry-After, so clients and load
        # balancers wait and try again; anything else of the database layer is a bug (500).
        database = unavailable(exc)
        if database is not None:
            return error_response(database)
        if isinstance(exc, VectorStoreUnavailable):
            log.warning("%s", exc)
            return error_response(SearchUnavailable(str(exc)))
        log.exception("unhandled error", exc_info=exc)
        return JSONResponse(
            error_body(
                "internal_error",
                "Something went wrong on the server; the error was logged. "
                "Try again, and tell the operator if it persists.",
            ),
            status_code=500,
        )


def _document_error_bodies(app: FastAPI) -> None:
    """The document said a 422 is FastAPI's `HTTPValidationError` ({"detail": [...]}); the
    handlers above send the envelope. Found while writing the API fuzzer (its schema check
    passed them only because `detail` is optional): a client generated from the document could
    not read a 422. Each 422 now names `ErrorBody`."""
    generate = app.openapi

    def openapi() -> dict:
        if app.openapi_schema:
            return app.openapi_schema
        document = generate()
        components = document.setdefault("components", {}).setdefault("schemas", {})
        body = ErrorBody.model_json_schema(ref_template="#/components/schemas/{model}")
        components.update(body.pop("$defs", {}))
        components["ErrorBody"] = body
        for item in document.get("paths", {}).values():
            for operation in item.values():
                response = operation.get("responses", {}).get("422")
                if response is not None:
                    response["description"] = "Invalid request: the message says what to change"
                    response["content"] = {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}}
        for unused in ("HTTPValidationError", "ValidationError"):
            components.pop(unused, None)
        app.openapi_schema = document
        return document

    app.openapi = openapi  # type: ignore[method-assign]

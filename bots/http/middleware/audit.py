"""The audit log's one writer: every change accepted through the admin API (a POST, PUT, PATCH
or DELETE under /admin that answered below 400) becomes a row naming who made it (the caller
the admin dependency resolved), what (an action named from the route) and on what (the route's
ids, or the id of what a create made). Routes do not write audit rows themselves, so a route
added later is recorded too.

The row is written before the response leaves, so a client that reads the log right after a
change finds it."""

from __future__ import annotations

import json
import logging
import re

import anyio.to_thread

from bots.store import accounts

log = logging.getLogger("prompteur.audit")

_CHANGES = ("POST", "PUT", "PATCH", "DELETE")
# Admin POSTs that ask something and change nothing: not worth a row each.
NOT_CHANGES = frozenset(
    {
        "/admin/bots/{bot_id}/playground",
        "/admin/bots/{bot_id}/search",
        "/admin/bots/{bot_id}/compare",
        "/admin/providers/test",
    }
)
# Names clearer than the ones the rule below would give.
ACTIONS = {
    ("POST", "/admin/bots/{bot_id}/versions"): "bot.publish",
    ("POST", "/admin/bots/{bot_id}/versions/{number}/rollback"): "bot.rollback",
    ("POST", "/admin/bots/{bot_id}/documents"): "document.upload",
    ("DELETE", "/admin/bots/{bot_id}/keys/{key_id}"): "key.revoke",
    ("DELETE", "/admin/tokens/{token_id}"): "token.revoke",
    ("POST", "/admin/logout"): "session.logout",
    ("PATCH", "/admin/me"): "user.update_self",
    ("POST", "/admin/bots/{bot_id}/reindex"): "bot.reindex",
    ("POST", "/admin/bots/{bot_id}/web-sources/sync"): "web_source.sync_all",
    ("POST", "/admin/bots/{bot_id}/test-sets/{name}/cases"): "test_case.create",
    ("POST", "/admin/bots/{bot_id}/corrected-answers/import"): "corrected_answer.import",
}
_VERBS = {"POST": "create", "PUT": "replace", "PATCH": "update", "DELETE": "delete"}
_PARAM = re.compile(r"^\{(\w+)\}$")
# Resource names as the audit log shows them (the route's plural, made singular).
_SINGULAR = {
    "bots": "bot",
    "documents": "document",
    "keys": "key",
    "web-sources": "web_source",
    "test-sets": "test_set",
    "cases": "test_case",
    "corrected-answers": "corrected_answer",
    "eval-runs": "eval_run",
    "experiments": "experiment",
    "handoffs": "handoff",
    "review": "review_item",
    "users": "user",
    "tokens": "token",
    "versions": "version",
    "gate": "publish_gate",
}
_MAX_BODY_READ = 64 * 1024


def action_for(method: str, template: str) -> tuple[str, str]:
    """(action, target type) for a change route: "document.delete", "web_source.sync"...
    A route ending in a verb after an id (…/{source_id}/sync) is that verb on the resource; one
    ending in an id or a collection (…/{bot_id}/keys) is created, replaced, updated or deleted by its method."""
    parts = [p for p in template.removeprefix("/admin").split("/") if p]
    literals = [p for p in parts if not _PARAM.match(p)]
    ends_in_verb = parts[-1] not in _SINGULAR and not _PARAM.match(parts[-1])
    if len(parts) >= 2 and ends_in_verb and _PARAM.match(parts[-2]) and len(literals) >= 2:
        resource = _SINGULAR.get(literals[-2], literals[-2])
        verb = parts[-1].replace("-", "_")
    else:
        last = literals[-1] if literals else "admin"
        resource = _SINGULAR.get(last, last.replace("-", "_"))
        verb = _VERBS.get(method, method.lower())
    return ACTIONS.get((method, template), f"{resource}.{verb}"), resource


def _target_id(path_params: dict, created: dict | None, target_type: str) -> str | None:
    if created and isinstance(created.get("id"), str | int):
        return str(created["id"])
    ids = [str(v) for k, v in path_params.items() if k != "bot_id"]
    if ids:
        return ids[-1]
    # The bot is the target only of the bot's own routes; a publish's target is not the bot's id
    # (the bot is in its own column).
    return path_params.get("bot_id") if target_type == "bot" else None


class AuditLog:
    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope["method"] not in _CHANGES or not scope["path"].startswith("/admin/"):
            return await self.app(scope, receive, send)
        held: dict | None = None

        async def send_after_recording(message):
            nonlocal held
            if message["type"] == "http.response.start":
                if message["status"] < 400 and self._audited(scope):
                    held = message  # sent once the row is written, with the first body part
                    return
                return await send(message)
            if message["type"] == "http.response.body" and held is not None:
                start, held = held, None
                await anyio.to_thread.run_sync(self._record, scope, start, message)
                await send(start)
            await send(message)

        await self.app(scope, receive, send_after_recording)
        if held is not None:  # a response that never sent a body part
            await anyio.to_thread.run_sync(self._record, scope, held, {"body": b""})
            await send(held)

    @staticmethod
    def _audited(scope) -> bool:
        route = scope.get("route")
        caller = scope.get("state", {}).get("caller")
        return route is not None and caller is not None and route.path not in NOT_CHANGES

    @classmethod
    def _record(cls, scope, start: dict, body_message: dict) -> None:
        # The change is already made: a failed audit write is logged loudly, and the client
        # still gets its answer (an error here would make it retry a change that happened).
        try:
            cls._write(scope, start, body_message)
        except Exception:
            log.exception("audit: could not record %s %s", scope["method"], scope["path"])

    @staticmethod
    def _write(scope, start: dict, body_message: dict) -> None:
        route, caller = scope["route"], scope["state"]["caller"]
        method = scope["method"]
        action, target_type = action_for(method, route.path)
        params = dict(scope.get("path_params") or {})
        created = None
        body = body_message.get("body", b"")
        if method == "POST" and body and len(body) <= _MAX_BODY_READ and not body_message.get("more_body"):
            try:
                parsed = json.loads(body)
                created = parsed if isinstance(parsed, dict) else None
            except ValueError:
                created = None
        target_id = _target_id(params, created, target_type)
        bot_id = params.get("bot_id") or (created or {}).get("bot_id")
        if target_type == "bot":
            bot_id = target_id  # a bot just created has its id only in the response
        detail = {"method": method, "path": scope["path"], "status": start["status"]}
        with scope["app"].state.runtime.sessions() as session:
            accounts.record(
                session,
                caller,
                action,
                target_type,
                target_id=target_id,
                bot_id=bot_id if isinstance(bot_id, str) else None,
                detail=detail,
            )

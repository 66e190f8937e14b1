"""Who may call which admin route: the one table of roles, read by the one admin dependency
(bots.http.deps.require_admin), so a route added later is covered without remembering to.

The rule: a viewer may GET; changing anything takes an editor; reading keys (a bot's keys, the
embed snippet with its publishable key) takes an editor even with GET; people, other people's
tokens and the audit log take an owner. A few routes are about the caller themself (signing
out, their own password and API tokens): every role may use them."""

from __future__ import annotations

import re

from bots.core.roles import Role

# Route templates as FastAPI declares them (scope["route"].path).
OWNER_ONLY = re.compile(r"^/admin/(users|audit)(/.*)?$")
SECRET_READS = re.compile(r"^/admin/bots/\{bot_id\}/(keys|embed)(/.*)?$")
SELF_SERVICE = frozenset({"/admin/logout", "/admin/me", "/admin/tokens", "/admin/tokens/{token_id}"})

_READS = frozenset({"GET", "HEAD", "OPTIONS"})


def needed_role(method: str, template: str) -> Role:
    if template in SELF_SERVICE:
        return Role.VIEWER
    if OWNER_ONLY.match(template):
        return Role.OWNER
    if method.upper() not in _READS or SECRET_READS.match(template):
        return Role.EDITOR
    return Role.VIEWER


def refusal(role: Role, needed: Role, method: str, template: str) -> str:
    """The sentence a refused caller reads: what their role lacks and whom to ask."""
    if needed == Role.OWNER:
        return f"Only an owner can manage people, tokens of others and the audit log; you are {_a(role)}."
    if SECRET_READS.match(template):
        return (
            f"Viewers cannot see keys or embed snippets (they hold a key); you are {_a(role)}. "
            "Ask an owner for the editor role."
        )
    return f"Your role ({role}) can read but not change anything. Ask an owner for the editor role."


def _a(role: Role) -> str:
    return f"an {role}" if role[0] in "aeiou" else f"a {role}"

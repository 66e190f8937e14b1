"""Team roles and what each may do, in words the server, the CLI and the builder share.

Roles are ordered: an owner may do all an editor may, an editor all a viewer may."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    VIEWER = "viewer"  # reads bots, knowledge, conversations and analytics; no keys, no changes
    EDITOR = "editor"  # changes bots, knowledge, tests and publishes; sees and makes bot keys
    OWNER = "owner"  # also manages people, their tokens and the audit log

    @property
    def rank(self) -> int:
        return _RANK[self]

    def allows(self, needed: Role) -> bool:
        return self.rank >= needed.rank


_RANK = {Role.VIEWER: 0, Role.EDITOR: 1, Role.OWNER: 2}

ROLE_SENTENCES = {
    Role.VIEWER: "read bots, knowledge, conversations and analytics; cannot see keys or change anything",
    Role.EDITOR: "change bots, knowledge, test sets and publish; create and revoke bot keys",
    Role.OWNER: "everything an editor does, plus people, their tokens and the audit log",
}

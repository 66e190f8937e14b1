"""`prompteur users|tokens|audit|login|whoami`: team use from the command line (issue #15, item 10).

A person's API token (`prompteur tokens create`) goes in PROMPTEUR_TOKEN, or is saved by
`prompteur login` to PROMPTEUR_HOME/cli_token; without either, the CLI uses the admin token
(the first owner's), as before accounts existed."""

from __future__ import annotations

import getpass
import json
import socket
import sys

from bots.cli.client import CLI_TOKEN_FILE, ClientError
from bots.core.roles import Role
from bots.file_modes import write_private
from bots.settings import Settings


def add_parsers(sub, client) -> None:
    """`client` is main's factory of the admin client."""
    roles = [r.value for r in Role]
    users = sub.add_parser("users", help="people who may use the builder and the CLI (owners)").add_subparsers()
    add = users.add_parser("add", help="add a person; prints a one-time password unless --password-prompt")
    add.add_argument("name", help="a login name or an email")
    add.add_argument("--role", choices=roles, default=Role.VIEWER.value)
    add.add_argument("--password-prompt", action="store_true", help="type the password instead")
    add.set_defaults(run=lambda args: _users_add(args, client()))
    lst = users.add_parser("list", help="everyone, with their role")
    lst.add_argument("--json", action="store_true")
    lst.set_defaults(run=lambda args: _users_list(args, client()))
    change = users.add_parser("set", help="change a person's role, or disable/enable them")
    change.add_argument("user", help="name or id")
    change.add_argument("--role", choices=roles)
    change.add_argument("--disable", action="store_true", help="refuse their sign-ins and tokens")
    change.add_argument("--enable", action="store_true")
    change.set_defaults(run=lambda args: _users_set(args, client()))
    rm = users.add_parser("rm", help="delete a person and their tokens (the audit log keeps their name)")
    rm.add_argument("user", help="name or id")
    rm.set_defaults(run=lambda args: _users_rm(args, client()))

    tokens = sub.add_parser("tokens", help="your API tokens for the CLI and scripts").add_subparsers()
    create = tokens.add_parser("create", help="a new API token with your role; printed once")
    create.add_argument("--name", required=True, help="what it is for: laptop, ci, ...")
    create.add_argument("--days", type=int, help="expires after this many days (default: never)")
    create.set_defaults(run=lambda args: _tokens_create(args, client()))
    tlist = tokens.add_parser("list", help="your tokens and sessions (owners: --all for everyone's)")
    tlist.add_argument("--all", action="store_true")
    tlist.add_argument("--json", action="store_true")
    tlist.set_defaults(run=lambda args: _tokens_list(args, client()))
    revoke = tokens.add_parser("revoke", help="revoke a token by id")
    revoke.add_argument("token_id")
    revoke.set_defaults(run=lambda args: _tokens_revoke(args, client()))

    audit = sub.add_parser("audit", help="who changed what, newest first (owners)")
    audit.add_argument("--bot", help="a bot's id or name")
    audit.add_argument("--user", help="a person's name or id")
    audit.add_argument("--action", help="e.g. bot.publish, key.create, document.delete")
    audit.add_argument("--limit", type=int, default=50)
    audit.add_argument("--json", action="store_true")
    audit.set_defaults(run=lambda args: _audit(args, client()))

    login = sub.add_parser("login", help="sign in and save an API token for this CLI (PROMPTEUR_HOME/cli_token)")
    login.add_argument("name")
    login.set_defaults(run=lambda args: _login(args, client()))
    whoami = sub.add_parser("whoami", help="who the CLI is signed in as")
    whoami.set_defaults(run=lambda args: _whoami(client()))


def _users_add(args, client) -> int:
    password = None
    if args.password_prompt:
        password = getpass.getpass(f"Password for {args.name}: ")
        if password != getpass.getpass("Again: "):
            print("error: the two passwords differ; nothing was changed.", file=sys.stderr)
            return 1
    user = client.create_user(args.name, args.role, password)
    print(f"Added {user.name} ({user.role}), id {user.id}.")
    if user.one_time_password:
        print(f"One-time password (shown once; they can change it in the builder): {user.one_time_password}")
    return 0


def _users_list(args, client) -> int:
    users = client.users()
    if args.json:
        print(json.dumps([u.model_dump(mode="json") for u in users], ensure_ascii=False))
        return 0
    for u in users:
        state = "disabled" if u.disabled else ("no password yet" if not u.has_password else "")
        print(f"{u.id}  {u.role:<7}  {u.name}  {state}".rstrip())
    return 0


def _users_set(args, client) -> int:
    if args.disable and args.enable:
        print("error: --disable or --enable, not both; nothing was changed.", file=sys.stderr)
        return 2
    fields: dict = {}
    if args.role:
        fields["role"] = args.role
    if args.disable or args.enable:
        fields["disabled"] = bool(args.disable)
    if not fields:
        print("error: say what to change: --role, --disable or --enable.", file=sys.stderr)
        return 2
    user = client.update_user(client.resolve_user(args.user).id, **fields)
    print(f"{user.name}: {user.role}{', disabled' if user.disabled else ''}.")
    return 0


def _users_rm(args, client) -> int:
    user = client.resolve_user(args.user)
    client.delete_user(user.id)
    print(f"Deleted {user.name} and their tokens.")
    return 0


def _tokens_create(args, client) -> int:
    made = client.create_token(args.name, args.days)
    print(made.token)
    print(
        f"API token {made.name!r} ({made.id}) for {made.user_name}: shown once, keep it in a password manager. "
        "Use it as PROMPTEUR_TOKEN, or Authorization: Bearer <token>.",
        file=sys.stderr,
    )
    return 0


def _tokens_list(args, client) -> int:
    tokens = client.tokens(everyone=args.all)
    if args.json:
        print(json.dumps([x.model_dump(mode="json") for x in tokens], ensure_ascii=False))
        return 0
    for x in tokens:
        state = "revoked" if x.revoked else (f"expires {x.expires_at:%Y-%m-%d %H:%M}" if x.expires_at else "")
        used = f"last used {x.last_used_at:%Y-%m-%d %H:%M}" if x.last_used_at else "never used"
        print(f"{x.id}  {x.kind:<7}  {x.user_name}  {x.name}  {used}  {state}".rstrip())
    return 0


def _tokens_revoke(args, client) -> int:
    client.revoke_token(args.token_id)
    print(f"Revoked {args.token_id}.")
    return 0


def _audit(args, client) -> int:
    bot_id = client.resolve_bot(args.bot).id if args.bot else None
    page = client.audit(bot_id=bot_id, user=args.user, action=args.action, limit=args.limit)
    if args.json:
        print(json.dumps(page.model_dump(mode="json"), ensure_ascii=False))
        return 0
    for e in page.entries:
        target = f"{e.target_type} {e.target_id}" if e.target_id else e.target_type
        bot = f"  [{e.bot_id}]" if e.bot_id and e.bot_id != e.target_id else ""
        print(f"{e.at:%Y-%m-%d %H:%M:%S}  {e.user_name or '-'}  {e.action}  {target}{bot}")
    print(f"{len(page.entries)} of {page.total} entries", file=sys.stderr)
    return 0


def _login(args, client) -> int:
    """Signs in, makes an API token for this machine and saves it; the session is ended at once
    (the saved token is what the CLI uses, and it does not expire after 12 hours)."""
    password = getpass.getpass(f"Password for {args.name}: ")
    session = client.login(args.name, password)
    client.use_token(session.token)
    try:
        made = client.create_token(f"cli on {socket.gethostname()}")
    finally:
        try:
            client.logout()
        except ClientError:
            pass  # the session expires by itself
    path = Settings().home / CLI_TOKEN_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    write_private(path, made.token)
    print(
        f"Signed in as {made.user_name}; the CLI's token is in {path} "
        f"(revoke it with `prompteur tokens revoke {made.id}`)."
    )
    return 0


def _whoami(client) -> int:
    me = client.me()
    how = "a builder session" if me.token_kind == "session" else "an API token"
    print(f"{me.user.name} ({me.user.role}), with {how}")
    return 0

"""Team use from the command line, against a real server: the owner (the admin token) adds a
person, who makes an API token and uses the CLI with it, within their role; the audit log
names them."""

from __future__ import annotations

import json
import re

import httpx


def test_a_person_uses_the_cli_with_their_own_token(live_server):
    server = live_server
    added = server.cli("users", "add", "dana@example.com", "--role", "editor")
    assert added.returncode == 0, added.stderr
    one_time = re.search(r"One-time password .*: (\S+)", added.stdout).group(1)
    listed = json.loads(server.cli("users", "list", "--json").stdout)
    assert [(u["name"], u["role"]) for u in listed] == [("owner", "owner"), ("dana@example.com", "editor")]

    # Dana signs in (as the builder does) and makes an API token for the CLI.

    session = httpx.post(f"{server.url}/admin/login", json={"name": "dana@example.com", "password": one_time}).json()
    as_dana = {**server.env, "PROMPTEUR_TOKEN": session["token"]}
    made = server.cli_as(as_dana, "tokens", "create", "--name", "laptop")
    assert made.returncode == 0, made.stderr
    token = made.stdout.strip()
    assert token.startswith("pta_") and "shown once" in made.stderr
    dana = {**server.env, "PROMPTEUR_TOKEN": token}

    assert server.cli_as(dana, "whoami").stdout.strip() == "dana@example.com (editor), with an API token"
    created = server.cli_as(dana, "bot", "create", "Shop", "--json")
    assert created.returncode == 0, created.stderr
    bot_id = json.loads(created.stdout)["id"]
    refused = server.cli_as(dana, "users", "list")  # an editor does not manage people
    assert refused.returncode == 1 and "Only an owner" in refused.stderr

    audit = json.loads(server.cli("audit", "--bot", bot_id, "--json").stdout)
    assert [(e["user_name"], e["action"]) for e in audit["entries"]] == [("dana@example.com", "bot.create")]
    tokens = server.cli_as(dana, "tokens", "list").stdout
    assert "laptop" in tokens and token not in tokens
    token_id = next(line.split()[0] for line in tokens.splitlines() if "laptop" in line)
    assert server.cli("tokens", "revoke", token_id).returncode == 0  # an owner may revoke anyone's
    after = server.cli_as(dana, "bot", "list")
    assert after.returncode == 1 and "credential" in after.stderr

    disabled = server.cli("users", "set", "dana@example.com", "--disable")
    assert disabled.returncode == 0 and "disabled" in disabled.stdout

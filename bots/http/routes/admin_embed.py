"""Admin API: the snippets that put a bot on a website or in a program (script tag, iframe,
hosted page, curl, the official openai SDK), filled in with this server's public address."""

from __future__ import annotations

import json
from html import escape
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Query, Request

from bots.http.deps import AdminAuth, BotDep, DbSession, ReleasingRoute, RuntimeDep
from bots.http.errors import ApiError
from bots.schemas.keys import Snippets
from bots.store import keys

router = APIRouter(
    route_class=ReleasingRoute, prefix="/admin/bots/{bot_id}", dependencies=[AdminAuth], tags=["admin: publishing"]
)

KEY_PLACEHOLDER = "pk_YOUR_PUBLISHABLE_KEY"
SECRET_PLACEHOLDER = "sk_YOUR_SECRET_KEY"
SAMPLE_QUESTION = "How do I return an item?"


def _attr(value: str) -> str:
    return escape(value, quote=True)


def snippets(base_url: str, bot_id: str, key: str) -> Snippets:
    hosted = f"{base_url}/chat/{quote(bot_id, safe='')}?{urlencode({'key': key})}"
    chat_url = f"{base_url}/v1/bots/{quote(bot_id, safe='')}/chat"
    body = json.dumps({"message": SAMPLE_QUESTION})
    return Snippets(
        script=(
            f'<script src="{_attr(base_url)}/widget.js" data-bot="{_attr(bot_id)}" '
            f'data-key="{_attr(key)}" async></script>'
        ),
        iframe=(
            f'<iframe src="{_attr(hosted)}" title="Chat" width="400" height="600" '
            'style="border:0" loading="lazy"></iframe>'
        ),
        hosted_url=hosted,
        curl=(
            f"curl -X POST '{chat_url}' \\\n"
            f"  -H 'Authorization: Bearer {SECRET_PLACEHOLDER}' \\\n"
            "  -H 'Content-Type: application/json' \\\n"
            f"  -d '{body}'"
        ),
        python=(
            "from openai import OpenAI\n\n"
            f'client = OpenAI(base_url="{base_url}/v1", api_key="{SECRET_PLACEHOLDER}")\n'
            "reply = client.chat.completions.create(\n"
            f"    model={json.dumps(bot_id)},\n"
            f'    messages=[{{"role": "user", "content": {json.dumps(SAMPLE_QUESTION)}}}],\n'
            ")\n"
            "print(reply.choices[0].message.content)\n"
        ),
    )


@router.get(
    "/embed", response_model=Snippets, summary="Snippets for the website widget, the iframe, curl and the openai SDK"
)
def embed(
    bot: BotDep,
    session: DbSession,
    request: Request,
    runtime: RuntimeDep,
    key: str | None = Query(default=None, max_length=200),
) -> Snippets:
    if key:
        # Snippets are pasted into public web pages: a secret key must never end up in one.
        found = keys.find_key(session, key, "publishable")
        if found is None or found.bot_id != bot.id:
            raise ApiError(
                "not_a_publishable_key",
                f"That is not an active publishable key (pk_...) of bot {bot.id}: create one "
                "under the bot's keys, or leave `key` out to get a placeholder.",
            )
    base_url = (runtime.settings.public_url or str(request.base_url)).rstrip("/")
    return snippets(base_url, bot.id, key or KEY_PLACEHOLDER)

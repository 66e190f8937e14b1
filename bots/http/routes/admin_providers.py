"""Admin API: try a model configuration before a bot uses it (the builder's first-run setup and
Settings page). One real chat request, from the server (the machine that will call the model,
so the same network and keys), and either the model's reply or the provider's exact error."""

from __future__ import annotations

import time

from fastapi import APIRouter

from bots.core.spec import SECRET_MASK, ModelSettings
from bots.http.deps import AdminAuth, DbSession, ReleasingRoute, RuntimeDep
from bots.http.errors import ApiError
from bots.http.request_values import RequestBody
from bots.llm.errors import ProviderError
from bots.llm.providers import OpenAIChatModel, RetryPolicy
from bots.schemas.providers import ProviderTest
from bots.store import tables as t

router = APIRouter(route_class=ReleasingRoute, prefix="/admin", dependencies=[AdminAuth], tags=["admin: server"])

# Short and neutral: any chat model can answer it in a few tokens, so a test costs next to nothing.
_PING = [{"role": "user", "content": "Reply with one short sentence to say you are ready."}]


class ModelToTest(ModelSettings, RequestBody):
    """A bot's model settings as the Settings page or the first-run setup holds them."""


@router.post("/providers/test", response_model=ProviderTest)
def test_provider(
    body: ModelToTest, runtime: RuntimeDep, session: DbSession, bot_id: str | None = None
) -> ProviderTest:
    """Send one request with these settings (not saved anywhere). Always 200: a failed
    connection is the answer to the question asked, not an error of this route.
    With `bot_id`, a masked api_key stands for that bot's saved key (the Settings page never
    has it), but only for the endpoint it was saved for, as when a spec is saved."""
    settings = _with_saved_key(body, session, bot_id)
    started = time.monotonic()
    model: OpenAIChatModel | None = None
    try:
        local_url = None
        if settings.provider == "local" and not settings.base_url:
            # Starting the bundled model is part of what is tested (it may be missing).
            local_url = runtime.models.local_model.ensure_started()
        openai_key = runtime.settings.openai_api_key
        model = OpenAIChatModel.from_settings(
            settings, keys={"openai": openai_key} if openai_key else {}, local_base_url=local_url
        )
        # No retries: the person waiting wants the first error, not the third.
        model.retry = RetryPolicy(max_retries=0)
        completion = model.complete(_PING, max_tokens=min(32, settings.max_tokens), temperature=0.0)
        return ProviderTest(
            ok=True, model=settings.default_model(), reply=completion.text.strip(), latency_ms=_ms(started)
        )
    except ProviderError as err:
        return ProviderTest(
            ok=False,
            model=settings.default_model(),
            latency_ms=_ms(started),
            error_code=err.code,
            error=err.operator_message,
        )
    finally:
        if model is not None:
            model.close()


def _with_saved_key(settings: ModelSettings, session, bot_id: str | None) -> ModelSettings:
    key = settings.api_key
    if key is None or key.get_secret_value() != SECRET_MASK:
        return settings
    saved = None
    if bot_id:
        bot = session.get(t.Bot, bot_id)
        if bot is None:
            raise ApiError("bot_not_found", f"There is no bot with id {bot_id!r}.")
        stored = ModelSettings.model_validate((bot.spec or {}).get("model") or {})
        if (stored.provider, stored.base_url) == (settings.provider, settings.base_url):
            saved = stored.api_key
    # Never send the mask itself to a provider: without a saved key, test with none.
    return settings.model_copy(update={"api_key": saved})


def _ms(started: float) -> int:
    return int((time.monotonic() - started) * 1000)

"""Estimated model prices, to put a cost next to token counts in analytics.

US dollars per million tokens (input, output), the providers' public list prices in 2025;
they change, and a discount or a batch price is not seen here, so the cost is an estimate.
The bundled model runs on the server: it costs no tokens. A model not listed has no estimate
(None), rather than a guess."""

from __future__ import annotations

PER_MILLION_USD: dict[str, tuple[float, float]] = {
    "smollm2-135m-instruct": (0.0, 0.0),
    "gpt-4o-mini": (0.15, 0.60),
    "gpt-4o": (2.50, 10.00),
    "gpt-4.1": (2.00, 8.00),
    "gpt-4.1-mini": (0.40, 1.60),
    "gpt-4.1-nano": (0.10, 0.40),
    "gpt-3.5-turbo": (0.50, 1.50),
}

NOTE = (
    "Estimated from list prices per million tokens (bots/core/prices.py); the bundled model costs "
    "nothing; models not in the table have no estimate."
)


def price_of(provider: str, model: str) -> tuple[float, float] | None:
    if provider == "local":
        return (0.0, 0.0)
    return PER_MILLION_USD.get(model)


def cost_usd(price: tuple[float, float] | None, prompt_tokens: int, completion_tokens: int) -> float | None:
    if price is None:
        return None
    return round((prompt_tokens * price[0] + completion_tokens * price[1]) / 1_000_000, 6)

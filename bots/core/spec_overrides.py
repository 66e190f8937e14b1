"""A spec with overrides: what an experiment's variant changes in the draft (a persona tone,
retrieval's k or minimum relevance, another model), merged section by section. Pure."""

from __future__ import annotations

from typing import Any

from bots.core.spec import BotSpec

# Sections a variant may change; the name, widget and origins are not what an experiment measures.
SECTIONS = ("persona", "fallback", "language", "model", "retrieval", "answer", "evaluation")


class InvalidOverrides(ValueError):
    pass


def merged(base: dict[str, Any], overrides: dict[str, Any]) -> dict[str, Any]:
    """`base` with `overrides` merged in, dicts key by key, anything else replaced."""
    out = dict(base)
    for key, value in overrides.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merged(out[key], value)
        else:
            out[key] = value
    return out


def with_overrides(spec: BotSpec, overrides: dict[str, Any] | None) -> BotSpec:
    """The spec as a variant sees it, validated like any spec (InvalidOverrides says why).
    A variant that points the model at another provider or address without a key of its own
    gets none: the draft's key is only ever sent where the draft sends it."""
    if not overrides:
        return spec
    unknown = sorted(set(overrides) - set(SECTIONS))
    if unknown:
        raise InvalidOverrides(f"unknown section(s) {', '.join(unknown)}: a variant may change {', '.join(SECTIONS)}")
    base = spec.stored_json()
    changed = overrides.get("model") or {}
    if ("provider" in changed or "base_url" in changed) and "api_key" not in changed:
        endpoint = (changed.get("provider", spec.model.provider), changed.get("base_url", spec.model.base_url))
        if endpoint != (spec.model.provider, spec.model.base_url):
            base["model"] = {**base["model"], "api_key": None}
    try:
        return BotSpec.model_validate(merged(base, overrides))
    except ValueError as err:
        raise InvalidOverrides(str(err).replace("\n", " ")) from None

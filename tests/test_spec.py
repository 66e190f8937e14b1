"""BotSpec validation, secret masking and the public display config."""

from __future__ import annotations

import json

import pytest
from pydantic import ValidationError

from bots.core.spec import SECRET_MASK, BotSpec, public_config


def test_minimal_spec_has_working_defaults():
    spec = BotSpec(name="Helper")
    assert spec.model.provider == "local" and spec.model.temperature == 0.2
    assert spec.model.max_tokens == 256 and spec.retrieval.k == 5
    assert spec.model.window() == 2048  # the bundled model's n_ctx
    assert BotSpec(name="x", model={"provider": "openai"}).model.window() == 16000
    assert spec.retrieval.threshold_for("all-MiniLM-L6-v2") == 0.40
    assert spec.retrieval.threshold_for("multilingual-e5-small") > 0.8
    assert BotSpec(name="x", retrieval={"min_relevance": 0.5}).retrieval.threshold_for("multilingual-e5-small") == 0.5
    assert BotSpec.model_validate(spec.stored_json()) == spec


def test_api_key_is_stored_but_never_shown():
    spec = BotSpec(name="x", model={"provider": "openai", "api_key": "sk-secret-123"})
    assert spec.stored_json()["model"]["api_key"] == "sk-secret-123"
    shown = spec.redacted()
    assert shown["model"]["api_key"] == SECRET_MASK
    assert "sk-secret" not in json.dumps(shown) and "sk-secret" not in repr(spec)
    assert "sk-secret" not in spec.model_dump_json()


def test_sending_back_a_redacted_spec_keeps_the_stored_key():
    stored = BotSpec(name="x", model={"provider": "openai", "api_key": "sk-secret-123"})
    edited = BotSpec.model_validate({**stored.redacted(), "name": "renamed"})
    merged = edited.keeping_secrets_of(stored)
    assert merged.name == "renamed"
    assert merged.model.api_key.get_secret_value() == "sk-secret-123"
    removed = BotSpec.model_validate({**stored.redacted(), "model": {"provider": "openai", "api_key": ""}})
    assert removed.keeping_secrets_of(stored).model.api_key is None


@pytest.mark.parametrize(
    "patch, field",
    [
        ({"temperature": 3}, "temperature"),
        ({"provider": "acme"}, "provider"),
        ({"base_url": "ftp://x"}, "base_url"),
        ({"unknown": 1}, "unknown"),
        ({"max_tokens": 2000}, "max_tokens"),
    ],
)
def test_bad_model_settings_are_rejected_with_the_field_named(patch, field):
    with pytest.raises(ValidationError) as err:
        BotSpec(name="x", model=patch)
    assert field in str(err.value)


def test_origins_are_normalised_and_validated():
    spec = BotSpec(
        name="x", allowed_origins=["https://WWW.Example.com/", "http://localhost:3000", "https://www.example.com"]
    )
    assert spec.allowed_origins == ["https://www.example.com", "http://localhost:3000"]
    with pytest.raises(ValidationError, match="scheme://host"):
        BotSpec(name="x", allowed_origins=["https://example.com/page"])


def test_widget_rejects_script_urls_and_bad_colours():
    with pytest.raises(ValidationError, match="avatar_url"):
        BotSpec(name="x", widget={"avatar_url": "javascript:alert(1)"})
    with pytest.raises(ValidationError, match="hex"):
        BotSpec(name="x", widget={"primary_color": "red"})


def test_public_config_has_display_fields_only():
    spec = BotSpec(
        name="Contoso help",
        persona={"instructions": "SECRET-INSTRUCTIONS", "greeting": "Hi there!"},
        model={"provider": "openai", "api_key": "sk-secret", "model": "gpt-4o-mini"},
        fallback={"handoff": {"enabled": True, "label": "Talk to us", "contact": "help@contoso.com"}},
        language={"mode": "fixed", "language": "fr"},
        widget={"starters": ["Opening hours?"], "primary_color": "#FF0000", "position": "left"},
        allowed_origins=["https://contoso.com"],
    )
    config = public_config(spec, "bot_1")
    assert config == {
        "bot_id": "bot_1",
        "title": "Contoso help",
        "avatar_url": None,
        "welcome": "Hi there!",
        "starters": ["Opening hours?"],
        "theme": {"primary": "#ff0000", "position": "left"},
        "language": "fr",
        "handoff": {"enabled": True, "label": "Talk to us"},
        "image_origins": [],
    }
    dumped = json.dumps(config)
    for secret in ("SECRET-INSTRUCTIONS", "sk-secret", "gpt-4o-mini", "help@contoso.com"):
        assert secret not in dumped
    assert public_config(BotSpec(name="x"), "b")["language"] == "auto"


def test_widget_image_origins_are_plain_https_origins_and_few():
    spec = BotSpec(
        name="x",
        widget={"image_origins": ["https://CDN.example.com/", "http://localhost:8080", "https://cdn.example.com", " "]},
    )
    assert spec.widget.image_origins == ["https://cdn.example.com", "http://localhost:8080"]
    assert public_config(spec, "b")["image_origins"] == spec.widget.image_origins
    for bad in (
        ["http://cdn.example.com"],
        ["https://cdn.example.com/img"],
        ["https://*.example.com"],
        ["javascript:alert(1)"],
        [f"https://cdn{i}.example.com" for i in range(11)],
    ):
        with pytest.raises(ValidationError):
            BotSpec(name="x", widget={"image_origins": bad})


def test_answer_settings_default_to_extractive_for_the_bundled_model_only():
    spec = BotSpec(name="x")
    assert spec.answer.style is None and spec.answer.max_chars == 700
    assert spec.answer.guard == "replace" and spec.answer.negation_check is False
    assert spec.answer.effective_style(spec.model) == "extractive"
    hosted = BotSpec(name="x", model={"provider": "openai"})
    assert hosted.answer.effective_style(hosted.model) == "generative"
    forced = BotSpec(name="x", answer={"style": "generative"})
    assert forced.answer.effective_style(forced.model) == "generative"
    assert BotSpec.model_validate(forced.stored_json()) == forced


def test_a_spec_stored_before_answer_settings_still_loads_with_the_defaults():
    old = BotSpec(name="x").stored_json()
    del old["answer"]
    assert BotSpec.model_validate(old).answer == BotSpec(name="x").answer


@pytest.mark.parametrize(
    "patch, field",
    [({"style": "poetic"}, "style"), ({"guard": "maybe"}, "guard"), ({"max_chars": 10}, "max_chars"), ({"x": 1}, "x")],
)
def test_bad_answer_settings_are_rejected_with_the_field_named(patch, field):
    with pytest.raises(ValidationError) as err:
        BotSpec(name="x", answer=patch)
    assert err.value.errors()[0]["loc"] == ("answer", field)

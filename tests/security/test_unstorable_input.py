"""Finding 11: inputs a client can send that ended in a 500 with a traceback.

- a lone UTF-16 surrogate in JSON (`"\\ud800"`): Python decodes it into a str that SQLite's
  UTF-8 insert refuses;
- an OpenAI content part whose `text` is not a string: joining the parts raised;
- an integer past 64 bits in an admin query or path (`?offset=99999999999999999999`): any
  query using it raised OverflowError.

Each is now a 422 with a sentence, decided at the edge: request bodies inherit
`bots.http.request_values.RequestBody` (one validator for every body), integer parameters
are `DbInt`."""

from __future__ import annotations

import json

import pytest
from pydantic import BaseModel

from bots.http.request_values import RequestBody
from tests.security.app_routes import api_routes, filled, operations
from tests.security.published_bots import bearer, new_key, published_bot, widget_session

SURROGATE = "\\ud800"  # as JSON spells it: the body below is written by hand
TOO_BIG = 2**64


def _raw(client, path: str, body: str, token: str | None = None):
    headers = {"Content-Type": "application/json", **(bearer(token) if token else {})}
    return client.post(path, content=body.encode(), headers=headers)


def _refused(response, *words: str) -> str:
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == "invalid_request"
    for word in words:
        assert word in error["message"], error["message"]
    return error["message"]


@pytest.fixture
def bot(api):
    return published_bot(api)


def test_a_lone_surrogate_is_refused_wherever_a_customer_writes_text(api, bot):
    key = new_key(api, bot)
    session = widget_session(api, bot, new_key(api, bot, "publishable"))
    answer = api.post(f"/v1/bots/{bot}/chat", json={"message": "hello"}, headers=bearer(key)).json()
    conversation, message = answer["conversation_id"], answer["message_id"]

    writes = [
        (f"/v1/bots/{bot}/chat", f'{{"message": "{SURROGATE}"}}', key, "message"),
        (f"/v1/bots/{bot}/chat", f'{{"message": "where is my order {SURROGATE}?"}}', session["token"], "message"),
        (f"/v1/bots/{bot}/chat", '{"message": "lone low \\udc00 too"}', key, "message"),
        (
            f"/v1/bots/{bot}/messages/{message}/feedback",
            f'{{"rating": "down", "comment": "{SURROGATE}"}}',
            key,
            "comment",
        ),
        (
            f"/v1/bots/{bot}/conversations/{conversation}/handoff",
            f'{{"name": "Ada", "email": "ada@example.com", "message": "call {SURROGATE}"}}',
            key,
            "message",
        ),
        (
            "/v1/chat/completions",
            json.dumps({"model": bot, "messages": [{"role": "user", "content": "x"}]}).replace('"x"', f'"{SURROGATE}"'),
            key,
            "messages.0.content",
        ),
        (
            "/v1/chat/completions",
            json.dumps(
                {"model": bot, "messages": [{"role": "user", "content": [{"type": "text", "text": "x"}]}]}
            ).replace('"x"', f'"{SURROGATE}"'),
            key,
            "messages.0.content.0.text",
        ),
        (f"/admin/bots/{bot}/playground", f'{{"message": "{SURROGATE}"}}', None, "message"),
        ("/admin/bots", f'{{"name": "Shop", "spec": {{"persona": {{"company": "{SURROGATE}"}}}}}}', None, "spec"),
    ]
    for path, body, token, field in writes:
        _refused(_raw(api, path, body, token), field, "lone surrogate")

    # Nothing of it was stored: the one conversation holds the one question and its answer.
    listed = api.get(f"/admin/bots/{bot}/conversations").json()
    assert listed["total"] == 1 and listed["conversations"][0]["messages"] == 2
    assert api.get(f"/admin/bots/{bot}/handoffs").json()["handoffs"] == []
    # A surrogate pair is a real character (here an emoji) and goes through.
    paired = _raw(api, f"/v1/bots/{bot}/chat", '{"message": "thanks \\ud83d\\ude00"}', key)
    assert paired.status_code == 200, paired.text


def test_openai_content_parts_must_carry_text_as_a_string(api, bot):
    key = new_key(api, bot)

    def complete(content):
        return api.post(
            "/v1/chat/completions",
            json={"model": bot, "messages": [{"role": "user", "content": content}]},
            headers=bearer(key),
        )

    _refused(complete([{"type": "text", "text": 5}]), "messages.0.content.parts.0.text", "valid string")
    _refused(complete([{"type": "text", "text": ["a"]}]), "messages.0.content.parts.0.text")
    _refused(complete([{"type": "text"}]), "needs `text`")
    _refused(complete(5), "content must be a string or a list of parts")
    # Parts the endpoint does not read (images, audio, ...) are still accepted beside the text.
    mixed = complete(
        [{"type": "image_url", "image_url": {"url": "https://x.example/a.png"}}, {"type": "text", "text": "hi"}]
    )
    assert mixed.status_code == 200, mixed.text


def test_every_integer_parameter_refuses_numbers_past_64_bits(api, bot):
    checked = []
    for method, path, operation in operations(api.app.openapi()):
        for param in operation.get("parameters", []):
            schema = param["schema"]
            kinds = {schema.get("type")} | {s.get("type") for s in schema.get("anyOf", [])}
            if "integer" not in kinds:
                continue
            for number in (TOO_BIG, -TOO_BIG):
                if param["in"] == "path":
                    url, query = filled(path, bot_id=bot, **{param["name"]: str(number)}), {}
                else:
                    url, query = filled(path, bot_id=bot), {param["name"]: str(number)}
                response = api.request(
                    method.upper(), url, params=query, json={} if "requestBody" in operation else None
                )
                assert response.status_code == 422, (method, url, query, response.text)
                assert param["name"] in response.json()["error"]["message"], response.text
            checked.append((path, param["name"]))
    # The walk found the parameters that overflowed in the review (and so any added later).
    names = {name for _, name in checked}
    assert {"offset", "version", "number", "limit"} <= names, checked


def test_integers_in_bodies_are_bounded_too(api, bot):
    _refused(
        api.post(f"/admin/bots/{bot}/playground", json={"message": "hi", "version": TOO_BIG}),
        "version",
        "larger than the server can store",
    )
    _refused(
        api.post(f"/admin/bots/{bot}/compare", json={"message": "hi", "versions": [1, TOO_BIG]}),
        "versions.1",
    )
    # The admin's list routes answer a plain wrong number with the same kind of sentence.
    _refused(api.get(f"/admin/bots/{bot}/conversations", params={"limit": "99999999999999999999"}), "limit")


def _body_models(annotation) -> list[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return [m for arg in getattr(annotation, "__args__", ()) for m in _body_models(arg)]


def test_every_json_body_is_a_request_body():
    """The rule that keeps the checks above true for routes added later."""
    bodies = {}
    for route in api_routes():
        for param in route.dependant.body_params:
            if type(param.field_info).__name__ != "Body":  # forms and files: not JSON
                continue
            for model in _body_models(param.field_info.annotation):
                bodies[model.__name__] = model
    assert len(bodies) >= 10, bodies
    assert [name for name, model in bodies.items() if not issubclass(model, RequestBody)] == []

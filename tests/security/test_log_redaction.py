"""Finding 13: a provider's error body was logged verbatim (an "Incorrect API key provided:
sk-..." reply puts the key in the server log), and so was anything else that quoted a token.
The server installs a logging filter that masks keys and tokens in every record."""

from __future__ import annotations

import logging

from fastapi.testclient import TestClient

from bots.http.app import create_app
from bots.llm.errors import ModelRateLimited
from bots.llm.providers import OpenAIChatModel, RetryPolicy
from tests.scripted_openai import Reply, ScriptedOpenAI

PROVIDER_KEY = "sk-proj-AbCdEf0123456789xyz"
SECRETS = [
    PROVIDER_KEY,
    "sk_Zx81kLmNoPqRsTuVwXyZ012345",
    "pk_Qw3rTy8uIoP4aSdFgHjKl6",
    "adm_9s8d7f6g5h4j3k2l1qwertyu",
    "pta_Zx9s8d7f6g5h4j3k2l1qwertyu",  # a person's API token (team use)
    "pts_Zx9s8d7f6g5h4j3k2l1qwertyu",  # a builder session
    "eyJhbGciOiJIUzI1NiJ9.payload.sig",
]


def test_keys_and_tokens_are_masked_in_the_server_log(settings, runtime, tmp_path):
    log_file = tmp_path / "server.log"
    handler = logging.FileHandler(log_file)
    logging.getLogger().addHandler(handler)
    provider = ScriptedOpenAI().start()
    try:
        with TestClient(create_app(settings, runtime=runtime)):
            # A real provider reply quoting the key, logged by the retry path.
            provider.queue(
                Reply.error(429, f"Incorrect API key provided: {PROVIDER_KEY}", {"retry-after": "0"}),
                Reply.error(429, f"Incorrect API key provided: {PROVIDER_KEY}", {"retry-after": "0"}),
            )
            model = OpenAIChatModel(
                model="m",
                api_key="x",
                base_url=provider.base_url,
                retry=RetryPolicy(max_retries=1),
                sleep=lambda s: None,
            )
            try:
                model.complete([{"role": "user", "content": "hi"}], max_tokens=5, temperature=0)
            except ModelRateLimited:
                pass
            log = logging.getLogger("prompteur.test")
            log.warning("client sent Authorization: Bearer %s", SECRETS[4])
            log.info("keys %s %s %s", *SECRETS[1:4])
            log.warning("call failed: https://x.example/v1?api_key=%s&q=1", "hunter2secret")
            try:
                raise RuntimeError(f"boom with {SECRETS[1]}")
            except RuntimeError:
                log.exception("unexpected")
    finally:
        provider.close()
        logging.getLogger().removeHandler(handler)
        handler.close()

    written = log_file.read_text()
    assert "Incorrect API key provided: sk-[redacted]" in written, written
    assert "Bearer [redacted]" in written and "api_key=[redacted]&q=1" in written
    for secret in [*SECRETS, "hunter2secret"]:
        assert secret not in written, f"{secret} reached the log:\n{written}"
    assert "boom with sk_[redacted]" in written, "tracebacks are masked too"


def test_records_keep_their_argument_shape_for_formatters_that_unpack_them():
    from bots.log_redaction import RedactSecrets

    record = logging.LogRecord(
        "uvicorn.access",
        logging.INFO,
        __file__,
        1,
        '%s - "%s %s HTTP/%s" %d',
        ("1.2.3.4", "GET", "/chat?key=pk_Qw3rTy8uIoP4aSdFgH", "1.1", 200),
        None,
    )
    assert RedactSecrets().filter(record)
    assert record.args == ("1.2.3.4", "GET", "/chat?key=pk_[redacted]", "1.1", 200)

"""Test sets through the real app: three formats in and out, and an import with any bad line
keeps nothing (the set stays as it was)."""

from __future__ import annotations

import json
import time

from bots import test_sets
from tests.conftest import create_bot

JSONL = (
    '{"question": "How long do refunds take?", "expected_sources": ["shop_help.md"], '
    '"expected_facts": ["5 business days"], "tags": ["refunds"], "must_pass": true}\n'
    '{"question": "What is the meaning of life?", "must_refuse": true}\n'
)
CSV = (
    "question,expected_sources,expected_facts,must_refuse,forbidden,tags\n"
    "How much is express delivery?,shop_help.md|faq.pdf#page=2,9 euros,,free,delivery|price\n"
    "Who won the match?,,,true,,\n"
)
YAML = """
cases:
  - question: When is support open?
    expected_facts: [9am, 5pm]
    history:
      - {role: user, content: hello}
      - {role: assistant, content: Hi!}
  - question: Tell me a joke
    must_refuse: yes
"""


def _put(api, bot, name, content, fmt):
    return api.put(f"/admin/bots/{bot}/test-sets/{name}", json={"format": fmt, "content": content})


def test_each_format_imports_and_exports_the_same_cases(api):
    bot = create_bot(api)["id"]
    for name, content, fmt in (("a", JSONL, "jsonl"), ("b", CSV, "csv"), ("c", YAML, "yaml")):
        r = _put(api, bot, name, content, fmt)
        assert r.status_code == 200, r.text
        assert r.json() == {"set": name, "cases": 2}
    csv_cases = api.get(f"/admin/bots/{bot}/test-sets/b").json()["cases"]
    assert csv_cases[0] == {
        "question": "How much is express delivery?",
        "expected_sources": ["shop_help.md", "faq.pdf#page=2"],
        "expected_facts": ["9 euros"],
        "forbidden": ["free"],
        "tags": ["delivery", "price"],
    }
    assert csv_cases[1] == {"question": "Who won the match?", "must_refuse": True}
    yaml_cases = api.get(f"/admin/bots/{bot}/test-sets/c").json()["cases"]
    assert yaml_cases[0]["history"][1] == {"role": "assistant", "content": "Hi!"}
    # Whatever format a set is exported in, reading it back gives the same cases.
    for fmt in test_sets.FORMATS:
        for name in "abc":
            cases = api.get(f"/admin/bots/{bot}/test-sets/{name}").json()["cases"]
            assert [c.stored() for c in test_sets.parse(test_sets.dump(cases, fmt), fmt)] == cases
    listed = api.get(f"/admin/bots/{bot}/test-sets").json()["sets"]
    assert [(s["name"], s["cases"]) for s in listed] == [("a", 2), ("b", 2), ("c", 2)]


def test_bad_lines_are_each_named_and_nothing_is_imported(api):
    bot = create_bot(api)["id"]
    assert _put(api, bot, "main", JSONL, "jsonl").status_code == 200
    bad = JSONL + '{"question": "ok"}\nnot json\n{"question": "x", "colour": "red"}\n{"expected_facts": ["a"]}\n'
    r = _put(api, bot, "main", bad, "jsonl")
    assert r.status_code == 422
    error = r.json()["error"]
    assert error["code"] == "invalid_test_cases"
    for expected in ("line 4: not valid JSON", "line 5: unknown field 'colour'", "line 6: question: Field required"):
        assert expected in error["message"]
    assert "line 3" not in error["message"]
    # The set is untouched: still the two cases of the first import.
    assert len(api.get(f"/admin/bots/{bot}/test-sets/main").json()["cases"]) == 2

    r = _put(api, bot, "other", "question,answer\nq,a\n", "csv")
    assert r.status_code == 422 and "line 1: unknown column(s) 'answer'" in r.json()["error"]["message"]
    r = _put(api, bot, "other", "question,must_refuse\nq1,\nq2,maybe\n", "csv")
    assert r.status_code == 422 and "line 3: must_refuse" in r.json()["error"]["message"]
    r = _put(api, bot, "other", "- question: fine\n- question: [not, text]\n", "yaml")
    assert r.status_code == 422 and "line 2: question" in r.json()["error"]["message"]
    assert [s["name"] for s in api.get(f"/admin/bots/{bot}/test-sets").json()["sets"]] == ["main"]


def test_ten_thousand_cases_import_in_seconds(api):
    bot = create_bot(api)["id"]
    lines = "".join(
        json.dumps(
            {
                "question": f"Question {i}: how long does a refund for an order paid by card take?",
                "expected_sources": [f"doc{i % 50}.md", f"manual.pdf#page={i % 300}"],
                "expected_facts": ["5 business days", "original payment method"],
                "reference_answer": "Refunds are paid back to the original payment method within 5 business days.",
                "tags": ["bulk", "refunds"],
            }
        )
        + "\n"
        for i in range(10_000)
    )
    assert len(lines) > 2 * 1024 * 1024  # more than the admin API's JSON limit: the upload limit applies
    started = time.monotonic()
    r = _put(api, bot, "bulk", lines, "jsonl")
    elapsed = time.monotonic() - started
    assert r.status_code == 200 and r.json()["cases"] == 10_000
    assert elapsed < 10, f"importing 10,000 cases took {elapsed:.1f}s"


def test_unknown_set_and_deleting_a_set(api):
    bot = create_bot(api)["id"]
    assert api.get(f"/admin/bots/{bot}/test-sets/nope").json()["error"]["code"] == "test_set_not_found"
    assert _put(api, bot, "gone", JSONL, "jsonl").status_code == 200
    assert api.delete(f"/admin/bots/{bot}/test-sets/gone").status_code == 204
    assert api.get(f"/admin/bots/{bot}/test-sets").json()["sets"] == []

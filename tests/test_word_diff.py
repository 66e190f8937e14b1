"""Two answers compared word by word for the Tests page: the changed words marked, and the
answers' own Markdown shown as text (they are model or document text a customer sees)."""

from __future__ import annotations

from markdown_it import MarkdownIt

from builder.word_diff import word_diff


def test_removed_and_added_words_are_marked():
    left, right = word_diff("Refunds take 5 business days.", "Refunds take a while.")
    assert left == "Refunds take :red-background[5 business days\\.]"
    assert right == "Refunds take :green-background[a while\\.]"
    assert word_diff("same answer", "same answer") == ("same answer", "same answer")
    assert word_diff("", "new") == ("", ":green-background[new]")


def test_markup_in_an_answer_stays_text():
    hostile = "see ![p](https://tracker.example/p.png) and [x](https://evil.example) *now* <b>b</b> ]"
    for side in word_diff("see the page", hostile) + word_diff(hostile, "see the page"):
        html = MarkdownIt("commonmark").render(side)
        assert "<img" not in html and "<a " not in html and "<em>" not in html and "<b>" not in html, side

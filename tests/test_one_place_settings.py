"""One place for each setting (issue #15 item 4): a template fills what it implies and leaves no
leftovers of another; the role and the company are not said twice in the prompt."""

from __future__ import annotations

from bots.core.prompting import _persona_lines
from bots.core.spec import BotSpec
from builder import templates


def test_a_template_replaces_the_welcome_and_the_language_it_implies():
    old = templates.spec_from("retail", "en", "Shop")
    old["widget"]["welcome"] = "Welcome to the old shop!"
    applied = templates.apply_to(old, "public_service", "fr")
    assert applied["widget"]["welcome"] == "", "the new template's greeting is the welcome"
    assert applied["language"] == {"mode": "fixed", "language": "fr"}
    assert applied["widget"]["starters"] == templates.spec_from("public_service", "fr", "x")["widget"]["starters"]
    assert BotSpec.model_validate(applied)


def test_role_and_company_are_not_doubled():
    spec = BotSpec.model_validate(
        {
            "name": "HR",
            "persona": {"role": "the benefits help assistant for Contoso employees", "company": "Contoso Electronics"},
        }
    )
    who = _persona_lines(spec, None)[0]
    assert who == "You are the benefits help assistant for Contoso employees. You speak for Contoso Electronics."
    named = BotSpec.model_validate({"name": "x", "persona": {"role": "Acme Store's helper", "company": "Acme Store"}})
    assert _persona_lines(named, None)[0] == "You are Acme Store's helper."

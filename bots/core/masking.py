"""Customers' e-mail addresses and phone numbers masked in what reviewers read (the review
inbox, conversation exports) when the bot's `review.mask_contacts` is on. Pure and one
function, so every place that shows customer text masks the same way."""

from __future__ import annotations

import re

EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
# International or national numbers of 8+ digits, with the spaces, dots, dashes and
# parentheses people write them with. Shorter runs (amounts, order numbers of a few digits,
# dates) are left alone; a long order number is masked too, which errs on the private side.
PHONE = re.compile(r"(?<![\w/])\+?\(?\d(?:[\s.\-()]{0,2}\d){7,14}(?![\w/])")
# A date written with separators has 8 digits too: it is not a contact.
DATE = re.compile(r"\d{4}[-/.]\d{1,2}[-/.]\d{1,2}|\d{1,2}[-/.]\d{1,2}[-/.]\d{4}")
EMAIL_MASK = "[email]"
PHONE_MASK = "[phone]"


def mask_contacts(text: str) -> str:
    def phone(match: re.Match[str]) -> str:
        return match.group() if DATE.fullmatch(match.group()) else PHONE_MASK

    return PHONE.sub(phone, EMAIL.sub(EMAIL_MASK, text))

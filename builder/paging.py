"""Long lists are shown a page at a time."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TypeVar

import streamlit as st

from builder.i18n import t

T = TypeVar("T")


def page_of(items: Sequence[T], key: str, per_page: int = 20) -> Sequence[T]:
    pages = max(1, math.ceil(len(items) / per_page))
    if pages == 1:
        return items
    number = st.number_input(t("page_n_of", pages=pages), min_value=1, max_value=pages, value=1, step=1, key=key)
    start = (int(number) - 1) * per_page
    return items[start : start + per_page]

"""A date-range picker's value as the admin API's `since`/`until` bounds."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta


def period_bounds(period: object) -> tuple[str | None, str | None]:
    """ISO `since` (the first day's start) and `until` (the day after the last day, so the last
    day counts whole). While the person is still picking, the widget holds one day or none."""
    if not isinstance(period, (tuple, list)) or not period:
        return None, None
    first: date = period[0]
    since = datetime.combine(first, time.min).isoformat()
    if len(period) < 2:
        return since, None
    last: date = period[1]
    return since, datetime.combine(last + timedelta(days=1), time.min).isoformat()

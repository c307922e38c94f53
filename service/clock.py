"""Time as people in China read it: 北京时间 (UTC+8), for every date a page, record or number shows."""
from __future__ import annotations

import datetime as dt

BEIJING = dt.timezone(dt.timedelta(hours=8), "北京时间")


def beijing(ts: float) -> dt.datetime:
    """An epoch timestamp as an aware datetime in Beijing time."""
    return dt.datetime.fromtimestamp(ts, BEIJING)

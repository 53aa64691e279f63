"""A moment in Slack's date syntax: each reader sees it in their own time zone."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo


def slack_time(moment: datetime, zone: str) -> str:
    """A time each reader sees in their own zone (Slack date syntax); `zone` for the fallback."""
    local = moment.astimezone(ZoneInfo(zone))
    fallback = f"{local:%a %b} {local.day}, {local:%H:%M} {local.tzname()}"
    return f"<!date^{int(moment.timestamp())}^{{date_short_pretty}} at {{time}}|{fallback}>"

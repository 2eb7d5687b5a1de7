"""Dates at the edges: the request formats the platform accepts and the UTC form it answers.

Inside, every datetime is aware and in UTC. A time sent without an offset is the
merchant account's local time; calendar days (a sale's date, an expiry) are the account's.
"""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

ACCEPTED_DATETIME_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d")
RESPONSE_DATETIME_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"


def parse_api_datetime(value: str) -> datetime | None:
    """A datetime from any accepted request format, or None; naive when sent without offset."""
    value = value.strip()
    for fmt in ACCEPTED_DATETIME_FORMATS:
        try:
            return datetime.strptime(value, fmt)
        except ValueError:
            continue
    if len(value) < 10 or value[4] != "-":
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None


def in_zone(value: datetime, zone: ZoneInfo) -> datetime:
    """An aware UTC datetime; a naive one is read as local time of `zone`."""
    if value.tzinfo is None or value.utcoffset() is None:
        value = value.replace(tzinfo=zone)
    return value.astimezone(UTC)


def format_api_datetime(value: datetime) -> str:
    return value.astimezone(UTC).strftime(RESPONSE_DATETIME_FORMAT)


def local_date(value: datetime, zone: ZoneInfo) -> date:
    """The calendar day of an instant in the account's zone."""
    return value.astimezone(zone).date()


def local_day_end(day: date, zone: ZoneInfo) -> datetime:
    """The first instant after the local day `day` (its local midnight's end), in UTC.

    What can be spent "through 1 July" stops being spendable at this instant of 2 July, in
    the account's zone — never at UTC midnight.
    """
    return datetime.combine(day + timedelta(days=1), time.min, tzinfo=zone).astimezone(UTC)


def last_local_day(end: datetime, zone: ZoneInfo) -> date:
    """The last local day before the instant `end` (the inverse of `local_day_end`)."""
    return (end - timedelta(microseconds=1)).astimezone(zone).date()

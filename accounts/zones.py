"""What a language or a time-zone name may be: the portal's LANGUAGES and the IANA zones Python knows."""

import zoneinfo
from functools import cache

from django.conf import settings


def language_codes() -> tuple[str, ...]:
    return tuple(code for code, _name in settings.LANGUAGES)


@cache
def time_zone_names() -> tuple[str, ...]:
    # "localtime" and the like are files of the tz database, not places a person lives in.
    return tuple(sorted(name for name in zoneinfo.available_timezones() if "/" in name or name == "UTC"))


def is_time_zone(name) -> bool:
    return isinstance(name, str) and name in _time_zone_set()


@cache
def _time_zone_set() -> frozenset[str]:
    return frozenset(time_zone_names())

"""IANA time zones: a zone name read once and checked, and a site's zone over the configured default.

Sites keep their local time as an IANA name (``Asia/Shanghai``, ``Europe/Berlin``); rules' ``during``
windows and the reports convert event times (always UTC) into it, so a window follows the site's clock
across daylight-saving changes. The zone data comes from the system or, where it has none (slim
container images), from the ``tzdata`` package.
"""

from __future__ import annotations

from datetime import tzinfo
from functools import cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from core.domain import Site
from core.errors import ConfigError

UTC_ZONE = ZoneInfo("UTC")


@cache
def parse_zone(name: str) -> ZoneInfo:
    """The zone called ``name``; ConfigError naming it when there is no such IANA zone."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(f"unknown time zone {name!r}: give an IANA name such as 'Asia/Shanghai' or 'UTC'") \
            from None


def site_zone(site: Site, default: tzinfo = UTC_ZONE) -> tzinfo:
    """The site's own zone, or ``default`` (the configured one) when it has none."""
    return default if site.time_zone is None else parse_zone(site.time_zone)

"""Bounded input types shared by routes and request schemas: times that carry a zone and a plausible year,
days of a plausible year, and durations that fit, so that no input reaches date arithmetic that overflows."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from pydantic import AfterValidator, AwareDatetime, Field

from api.errors import unprocessable

EARLIEST_YEAR = 1970
LATEST_YEAR = 2200
MAX_SHELVE_S = 7 * 24 * 3600  # operators shelve for at most a week (ISA-18.2's shelving is temporary)
_YEARS = f"between {EARLIEST_YEAR} and {LATEST_YEAR}"


def _plausible_year(value: Any) -> Any:
    if not EARLIEST_YEAR <= value.year <= LATEST_YEAR:
        raise ValueError(f"the year must be {_YEARS}")
    return value


ZonedTime = Annotated[AwareDatetime, AfterValidator(_plausible_year), Field(
    description=f"ISO 8601 with a zone (`Z` or `+08:00`), year {_YEARS}.",
    json_schema_extra={"format": "date-time"})]
Day = Annotated[date, AfterValidator(_plausible_year), Field(description=f"YYYY-MM-DD, year {_YEARS}.")]
ShelveSeconds = Annotated[float, Field(gt=0, le=MAX_SHELVE_S, allow_inf_nan=False,
                                       description=f"Seconds, at most {MAX_SHELVE_S} (7 days).")]


def check_window(since: datetime | date | None, until: datetime | date | None) -> None:
    """422 unless a query window's ends (either may be open) are in order."""
    if since is not None and until is not None and until <= since:
        raise unprocessable("until must be after since")


def ordered(since: datetime | date, until: datetime | date, names: tuple[str, str] = ("since", "until")) -> None:
    """ValueError unless ``since`` is before ``until`` (for a validator or a route's 422)."""
    if until <= since:
        raise ValueError(f"{names[1]} must be after {names[0]}")

"""Keyset pagination for the repositories' lists: order by a sort key then the id (stable), fetch one row
more than the page to know whether another page follows, and resume after the last (key, id) seen."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from sqlalchemy import Select, tuple_
from sqlalchemy.orm import InstrumentedAttribute

Item = TypeVar("Item")
Key = TypeVar("Key")


def keyset(query: Select[Any], key: InstrumentedAttribute[Any], row_id: InstrumentedAttribute[Any], limit: int,
           after: tuple[Any, int] | None, *, newest_first: bool) -> Select[Any]:
    """``query`` ordered by (key, id), descending when ``newest_first``, resuming after ``after``, with
    ``limit + 1`` rows at most (see ``split``)."""
    if after is not None:
        bound = tuple_(key, row_id) < tuple_(*after) if newest_first else tuple_(key, row_id) > tuple_(*after)
        query = query.where(bound)
    order = (key.desc(), row_id.desc()) if newest_first else (key, row_id)
    return query.order_by(*order).limit(limit + 1)


def split(items: Sequence[Item], limit: int,
          cursor_of: Callable[[Item], tuple[Key, int]]) -> tuple[list[Item], tuple[Key, int] | None]:
    """The page (the first ``limit`` items) and the cursor of the next page (None on the last one)."""
    page = list(items[:limit])
    return page, cursor_of(page[-1]) if len(items) > limit and page else None

"""The one shape of every list the API returns: a page of items, the total matching the filters, and the
cursor of the next page (None on the last). Cursors are opaque (api/cursors.py)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Generic, TypeVar

from fastapi import Query
from pydantic import BaseModel, Field

from api.cursors import encode_cursor

Item = TypeVar("Item")

DEFAULT_LIMIT = 50
MAX_LIMIT = 500


class Page(BaseModel, Generic[Item]):
    items: list[Item]
    total: int = Field(description="How many records match the filters, over all pages.")
    next_cursor: str | None = Field(None, description="Pass as ?cursor= for the next page; null on the last.")


Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Items per page.")]
Cursor = Annotated[str | None, Query(max_length=200, description="`next_cursor` of the previous page.")]


def keyset_page(items: list[Item], total: int, after: tuple[datetime | str, int] | None) -> Page[Item]:
    """A page of a keyset list (storage/records/paging.py): ``after`` is the (sort key, id) of its last item
    when another page follows."""
    if after is None:
        return Page[Item](items=items, total=total)
    key = after[0].isoformat() if isinstance(after[0], datetime) else after[0]
    return Page[Item](items=items, total=total, next_cursor=encode_cursor(key, after[1]))


def whole(items: list[Item]) -> Page[Item]:
    """A small fixed catalogue as one page: every item, its count, no next page."""
    return Page[Item](items=items, total=len(items))

"""The one shape of every list the API returns: a page of items, the total matching the filters, and the
cursor of the next page (None on the last). Cursors are opaque (api/cursors.py)."""

from __future__ import annotations

from typing import Generic, TypeVar

from pydantic import BaseModel, Field

Item = TypeVar("Item")

DEFAULT_LIMIT = 50
MAX_LIMIT = 500


class Page(BaseModel, Generic[Item]):
    items: list[Item]
    total: int = Field(description="How many records match the filters, over all pages.")
    next_cursor: str | None = Field(None, description="Pass as ?cursor= for the next page; null on the last.")

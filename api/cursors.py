"""Opaque page cursors: a list's sort key (a date or time, as ISO text) and a row id, base64url-encoded."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable
from datetime import datetime
from typing import TypeVar

from api.errors import unprocessable

Key = TypeVar("Key")
INVALID = "invalid cursor: pass the next_cursor of the previous page as it is"


def encode_cursor(iso_key: str, row_id: int) -> str:
    raw = json.dumps([iso_key, row_id]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def zoned_time(text: str) -> datetime:
    """A cursor's time key (ValueError for one without a zone)."""
    at = datetime.fromisoformat(text)
    if at.tzinfo is None:
        raise ValueError(text)
    return at


def decode_cursor(cursor: str | None, parse_key: Callable[[str], Key]) -> tuple[Key, int] | None:
    """(key, id) of a cursor made by ``encode_cursor``; 422 naming the fix for anything else.
    ``parse_key`` raises ValueError for a key it refuses."""
    if cursor is None:
        return None
    try:
        key, row_id = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if not isinstance(key, str) or not isinstance(row_id, int):
            raise ValueError(cursor)
        return parse_key(key), row_id
    except (ValueError, TypeError, OverflowError, binascii.Error) as error:
        raise unprocessable(INVALID) from error

"""The shared event log on PostgreSQL: what every process's bus published, in id order, and its NOTIFY.

Ids come from a bigserial, and a transaction can commit a lower id after another has committed a higher
one: a reader that took the higher one first would skip the lower for good. ``append`` therefore takes a
transaction-level advisory lock before it draws ids, so across the deployment ids commit in the order they
are drawn: a reader that sees id n knows that every lower id has either committed or rolled back (a hole
for good). The reader still waits a moment at a hole (``storage.records.event_channel``) in case something
writes without the lock.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import Engine, Row, Select, delete, func, insert, select, text

from core.errors import ConfigError
from core.events import Event
from storage.records.models import EventLogRow

CHANNEL = "facmon_events"  # the NOTIFY channel: its payload is empty, a listener reads the table
_LOCK = 0x6661636D6F6E  # pg_advisory_xact_lock key ("facmon"): ids are drawn and committed in one order
_COLUMNS = (EventLogRow.id, EventLogRow.topic, EventLogRow.data, EventLogRow.at, EventLogRow.origin)


def _json(data: dict[str, Any]) -> Any:
    """``data`` as the stream sends it (times as ISO text, anything else unusual as its ``str``)."""
    return orjson.loads(orjson.dumps(data, default=str, option=orjson.OPT_NON_STR_KEYS))


class EventLog:
    """The ``event_log`` table (migration 0010); PostgreSQL only (LISTEN/NOTIFY)."""

    def __init__(self, engine: Engine) -> None:
        if engine.dialect.name != "postgresql":
            raise ConfigError('events.channel = "postgresql" needs database.url on PostgreSQL, '
                              f"not {engine.dialect.name}")
        self._engine = engine
        self.epoch = ""

    def open(self, history: int) -> tuple[int, list[Event]]:
        """Where a new follower starts: the newest id handed out (0 before the first) and the newest
        ``history`` events, oldest first. Read under the writers' lock, so no id below is still committing.
        Also sets the log's epoch (the table's identity: a recreated database starts its ids again, and a
        client holding an old one is told to reload)."""
        with self._engine.begin() as connection:
            connection.execute(select(func.pg_advisory_xact_lock(_LOCK)))
            oid = connection.execute(text("SELECT 'event_log'::regclass::oid")).scalar_one()
            self.epoch = f"g{int(oid):x}"
            newest = connection.execute(text(
                "SELECT CASE WHEN is_called THEN last_value ELSE 0 END FROM event_log_id_seq")).scalar_one()
            rows = connection.execute(select(*_COLUMNS).order_by(EventLogRow.id.desc()).limit(history))
            return int(newest), self._events(rows)[::-1]

    def append(self, events: Sequence[Event]) -> None:
        """Write ``events`` in order, and NOTIFY the listeners, in one transaction."""
        rows = [{"topic": event.topic, "data": _json(event.data),
                 "at": event.at, "origin": event.origin} for event in events]
        with self._engine.begin() as connection:
            connection.execute(select(func.pg_advisory_xact_lock(_LOCK)))
            connection.execute(insert(EventLogRow), rows)
            connection.execute(select(func.pg_notify(CHANNEL, "")))

    def wake(self) -> None:
        """A NOTIFY alone: every listener reads the log once (finding nothing new)."""
        with self._engine.begin() as connection:
            connection.execute(select(func.pg_notify(CHANNEL, "")))

    def after(self, seq: int, limit: int) -> list[Event]:
        """The events after id ``seq``, oldest first, at most ``limit``."""
        query = select(*_COLUMNS).where(EventLogRow.id > seq).order_by(EventLogRow.id).limit(limit)
        return self._read(query)

    def trim(self, keep: int, before: datetime) -> int:
        """Delete what is older than ``before`` or beyond the newest ``keep`` events; how many went."""
        with self._engine.begin() as connection:
            newest = connection.execute(select(func.max(EventLogRow.id))).scalar_one_or_none() or 0
            gone = connection.execute(delete(EventLogRow).where(
                (EventLogRow.at < before) | (EventLogRow.id <= newest - keep)))
        return int(gone.rowcount)

    def _read(self, query: Select[Any]) -> list[Event]:
        with self._engine.connect() as connection:
            return self._events(connection.execute(query))

    def _events(self, rows: Iterable[Row[Any]]) -> list[Event]:
        return [Event(row.topic, row.data, row.at, seq=row.id, epoch=self.epoch, origin=row.origin) for row in rows]

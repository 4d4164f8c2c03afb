"""The audit log in the records database, on SQLite and on a real PostgreSQL: appended, filtered, paged."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from storage.records import Database
from storage.records.audit import AuditEntry, AuditFilter

AT = datetime(2026, 3, 2, 8, tzinfo=UTC)


def entry(minutes: int, actor: str = "ana", action: str = "alarm.acknowledge", target: str = "7") -> AuditEntry:
    return AuditEntry(at=AT + timedelta(minutes=minutes), actor=actor, via="token", action=action,
                      target_type=action.split(".")[0], target_id=target, before={"state": "unacknowledged"},
                      after={"state": "acknowledged", "note": "在路上"}, request_id=f"r{minutes}", status=200)


def test_an_entry_comes_back_as_written_with_its_id(db: Database) -> None:
    written = entry(0)
    entry_id = db.audit.append(written)
    [read], after = db.audit.page(AuditFilter())
    assert after is None
    assert read == AuditEntry(**{**{name: getattr(written, name) for name in AuditEntry.__slots__}, "id": entry_id})


def test_filters_narrow_by_actor_action_prefix_target_and_time(db: Database) -> None:
    for minutes, actor, action, target in [(0, "ana", "alarm.acknowledge", "7"), (1, "bo", "alarm.shelve", "7"),
                                           (2, "ana", "workorder.accepted", "3"), (3, "ana", "alarm_like.x", "9")]:
        db.audit.append(entry(minutes, actor, action, target))

    def actions(where: AuditFilter) -> list[str]:
        return [e.action for e in db.audit.page(where)[0]]

    assert actions(AuditFilter(actor="ana")) == ["alarm_like.x", "workorder.accepted", "alarm.acknowledge"]
    assert actions(AuditFilter(action="alarm.")) == ["alarm.shelve", "alarm.acknowledge"]  # a prefix, "_" literal
    assert actions(AuditFilter(target_type="alarm", target_id="7")) == ["alarm.shelve", "alarm.acknowledge"]
    assert actions(AuditFilter(since=AT + timedelta(minutes=1), until=AT + timedelta(minutes=3))) == [
        "workorder.accepted", "alarm.shelve"]
    assert db.audit.total(AuditFilter(actor="ana")) == 3


def test_pages_are_newest_first_and_stable_when_times_tie(db: Database) -> None:
    ids = [db.audit.append(entry(minutes)) for minutes in (0, 1, 1, 1, 2)]
    seen: list[int] = []
    page, after = db.audit.page(AuditFilter(), limit=2)
    while True:
        seen.extend(e.id for e in page if e.id is not None)
        if after is None:
            break
        page, after = db.audit.page(AuditFilter(), limit=2, after=after)
    assert seen == [ids[4], ids[3], ids[2], ids[1], ids[0]]

"""Dead letters reprocessed after a fix: collector.reprocess, the API route and `facmon deadletters`."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, cast

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from api.deps import Services
from api.routes import deadletters
from collector.registry import AssetRegistry
from collector.reprocess import build_decoder, reprocess, select_letters
from core.clock import ManualClock
from core.domain import Asset, AssetKind, DeadLetter, Reading, Site
from core.errors import RejectReason
from core.settings import CollectorSettings
from facmon.cli import main
from storage.influx_sink import PointsRejected
from storage.records import Database
from storage.sqlite_telemetry import SqliteTelemetryStore

RECEIVED = datetime(2026, 11, 27, 8, 0, tzinfo=UTC)
LATER = RECEIVED + timedelta(days=30)  # reprocessing much later: the letter's own receive time counts


def telemetry(asset: str, value: float) -> tuple[str, bytes]:
    return (f"facmon/v1/s1/pump/{asset}/telemetry",
            json.dumps({"ts": RECEIVED.isoformat(), "metrics": {"flow_m3h": value}}).encode())


class Parts:
    def __init__(self, root: Path) -> None:
        self.url = f"sqlite:///{root / 'records.sqlite3'}"
        self.store_path = root / "telemetry.sqlite3"
        self.db = Database(self.url)
        self.db.upgrade()
        self.db.assets.upsert_site(Site("s1", "Site 1"))
        self.store = SqliteTelemetryStore(self.store_path)
        self.clock = ManualClock(LATER)
        for asset, value in (("p1", 10.0), ("p2", 20.0)):
            topic, payload = telemetry(asset, value)
            self.db.dead_letters.add(DeadLetter(0, RECEIVED, topic, RejectReason.UNKNOWN_ASSET, "not registered",
                                                payload))
        self.db.dead_letters.add(DeadLetter(0, RECEIVED, "facmon/v1/s1/pump/p1/telemetry",
                                            RejectReason.INVALID_JSON, "broken", b"{nope"))

    def decoder(self):  # type: ignore[no-untyped-def]
        return build_decoder(AssetRegistry(self.db.assets.list, refresh_s=0), CollectorSettings(), self.clock)

    def register_p1(self) -> None:
        self.db.assets.upsert_asset(Asset("p1", "s1", AssetKind.PUMP, "Pump 1"))

    def flows(self, asset: str) -> list[tuple[datetime, float]]:
        return self.store.query(asset, "flow_m3h", RECEIVED - timedelta(hours=1), RECEIVED + timedelta(hours=1))


@pytest.fixture
def parts(tmp_path: Path) -> Iterator[Parts]:
    built = Parts(tmp_path)
    yield built
    built.store.close()
    built.db.dispose()


def test_after_the_asset_is_registered_its_letters_are_stored_and_deleted(parts: Parts) -> None:
    parts.register_p1()
    chosen = select_letters(parts.db.dead_letters, reason=RejectReason.UNKNOWN_ASSET)
    result = reprocess(chosen, parts.decoder(), parts.store, parts.db.dead_letters)
    assert (result.reprocessed, result.accepted, result.still_rejected, result.readings) == (2, 1, 1, 1)
    assert parts.flows("p1") == [(RECEIVED, 10.0)]
    assert parts.flows("p2") == []
    assert parts.db.dead_letters.counts() == {RejectReason.UNKNOWN_ASSET: 1, RejectReason.INVALID_JSON: 1}


class RefusingStore:
    """Refuses every reading of asset p1 as InfluxDB would after a field type conflict."""

    def __init__(self) -> None:
        self.stored: list[Reading] = []

    def write(self, readings: list[Reading]) -> None:
        self.stored.extend(r for r in readings if r.asset_id != "p1")
        refused = [(r, "field type conflict") for r in readings if r.asset_id == "p1"]
        if refused:
            raise PointsRejected(refused)


def test_a_letter_the_store_refuses_again_stays(parts: Parts) -> None:
    parts.register_p1()
    parts.db.assets.upsert_asset(Asset("p2", "s1", AssetKind.PUMP, "Pump 2"))
    store = RefusingStore()
    chosen = select_letters(parts.db.dead_letters, reason=RejectReason.UNKNOWN_ASSET)
    result = reprocess(chosen, parts.decoder(), cast(Any, store), parts.db.dead_letters)
    assert (result.accepted, result.still_rejected, result.readings) == (1, 1, 1)
    assert [r.asset_id for r in store.stored] == ["p2"]
    assert [letter.topic for letter in parts.db.dead_letters.list(RejectReason.UNKNOWN_ASSET)] == [
        telemetry("p1", 0)[0]]


def test_selecting_by_id_takes_only_those_letters(parts: Parts) -> None:
    parts.register_p1()
    every = parts.db.dead_letters.list()
    broken = [letter.id for letter in every if letter.reason == RejectReason.INVALID_JSON]
    chosen = select_letters(parts.db.dead_letters, ids=broken)
    assert [letter.id for letter in chosen] == broken
    result = reprocess(chosen, parts.decoder(), parts.store, parts.db.dead_letters)
    assert (result.accepted, result.still_rejected) == (0, 1)
    assert parts.db.dead_letters.count() == 3


def test_the_api_reprocesses_by_reason(parts: Parts) -> None:
    parts.register_p1()
    app = FastAPI()
    app.state.services = Services(db=parts.db, store=parts.store, book=cast(Any, None), rules=cast(Any, None),
                                  bus=cast(Any, None), clock=parts.clock, decoder=parts.decoder)
    app.include_router(deadletters.router, prefix="/api/v1")
    with TestClient(app) as client:
        listed = client.get("/api/v1/deadletters", params={"reason": "unknown_asset"}).json()["items"]
        assert {letter["topic"] for letter in listed} == {telemetry("p1", 0)[0], telemetry("p2", 0)[0]}
        response = client.post("/api/v1/deadletters/reprocess", json={"reason": "unknown_asset"})
        assert response.status_code == 200
        assert response.json() == {"reprocessed": 2, "accepted": 1, "still_rejected": 1, "readings": 1}
        assert client.post("/api/v1/deadletters/reprocess", json={"bogus": 1}).status_code == 422
    assert parts.flows("p1") == [(RECEIVED, 10.0)]


def test_the_command_lists_and_reprocesses(parts: Parts, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "facmon.toml"
    config.write_text(f'[database]\nurl = "{parts.url}"\n[telemetry]\nsqlite_path = "{parts.store_path}"\n'
                      f"[collector]\nlate_limit_s = {400 * 86400}\n")
    assert main(["deadletters", "list", "--config", str(config), "--reason", "invalid_json"]) == 0
    (line,) = capsys.readouterr().out.splitlines()
    assert json.loads(line)["payload"] == "{nope"
    parts.register_p1()
    assert main(["deadletters", "reprocess", "--config", str(config)]) == 0
    assert json.loads(capsys.readouterr().out) == {"reprocessed": 3, "accepted": 1, "still_rejected": 2,
                                                   "readings": 1}
    assert parts.flows("p1") == [(RECEIVED, 10.0)]


def test_sparkplug_letters_of_a_device_registered_later_are_reprocessed_in_order(parts: Parts) -> None:
    from core.sparkplug import DataType, MessageType, Metric, birth_payload, data_payload, encode_payload, spb_topic

    birth = encode_payload(birth_payload([Metric("flow_m3h", 7, DataType.DOUBLE, 12.0)], 1, RECEIVED))
    data = encode_payload(data_payload([(7, DataType.DOUBLE, 13.0)], 2, RECEIVED + timedelta(seconds=1)))
    for kind, payload in ((MessageType.DBIRTH, birth), (MessageType.DDATA, data)):
        parts.db.dead_letters.add(DeadLetter(0, RECEIVED, spb_topic("s1", kind, "gw", "p9"),
                                             RejectReason.UNKNOWN_ASSET, "not registered", payload))
    parts.db.assets.upsert_asset(Asset("p9", "s1", AssetKind.PUMP, "Pump 9"))
    decoder = build_decoder(AssetRegistry(parts.db.assets.list, refresh_s=0), CollectorSettings(), parts.clock,
                            reprocessing=True)
    chosen = [letter for letter in select_letters(parts.db.dead_letters) if letter.topic.startswith("spBv1.0")]
    result = reprocess(chosen, decoder, parts.store, parts.db.dead_letters)
    assert (result.accepted, result.still_rejected) == (2, 0)
    assert parts.flows("p9") == [(RECEIVED, 12.0), (RECEIVED + timedelta(seconds=1), 13.0)]
    # alone, alias-only data has no birth to read it by
    parts.db.dead_letters.add(DeadLetter(0, RECEIVED, spb_topic("s1", MessageType.DDATA, "gw", "p9"),
                                         RejectReason.NO_BIRTH, "no birth", data))
    alone = build_decoder(AssetRegistry(parts.db.assets.list), CollectorSettings(), parts.clock, reprocessing=True)
    again = reprocess(select_letters(parts.db.dead_letters, reason=RejectReason.NO_BIRTH), alone, parts.store,
                      parts.db.dead_letters)
    assert (again.accepted, again.still_rejected) == (0, 1)

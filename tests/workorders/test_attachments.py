"""Photos on work orders: the blob stores (a directory; S3 over HTTP against moto's server) and the checks."""

from __future__ import annotations

import hashlib
import secrets
import struct
import zlib
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from moto.server import ThreadedMotoServer
from pydantic import SecretStr

from core.clock import ManualClock
from core.domain import WorkOrderAction, WorkOrderKind, WorkOrderPriority
from core.errors import ConfigError, InvalidRequest, NotFound, ServiceUnavailable, TooLarge
from core.events import EventBus
from core.settings import AttachmentSettings, load_settings
from storage.records import Database
from workorders.attachments import (
    Attachments,
    BlobStore,
    DiskBlobStore,
    S3BlobStore,
    clean_filename,
    open_blob_store,
    sniff_image,
)
from workorders.book import WorkOrderBook

T0 = datetime(2026, 11, 27, 8, 0, tzinfo=UTC)


def png(width: int = 2, height: int = 2) -> bytes:
    """A real (tiny, grey) PNG image."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = b"".join(b"\x00" + b"\x80" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(100)


@pytest.fixture(scope="module")
def moto_server() -> Iterator[str]:
    """moto's S3 served over real HTTP on a free loopback port."""
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


def s3_settings(endpoint: str, bucket: str) -> AttachmentSettings:
    return AttachmentSettings(backend="s3", s3_bucket=bucket, s3_endpoint_url=endpoint, s3_region="us-east-1",
                              s3_access_key_id=SecretStr("testing"), s3_secret_access_key=SecretStr("testing"))


@pytest.fixture(params=["disk", "s3"])
def blobs(request: pytest.FixtureRequest, tmp_path: Path) -> BlobStore:
    if request.param == "disk":
        return open_blob_store(AttachmentSettings(directory=tmp_path / "blobs"))
    bucket = f"facmon-{secrets.token_hex(4)}"
    store = open_blob_store(s3_settings(request.getfixturevalue("moto_server"), bucket))
    assert isinstance(store, S3BlobStore)
    store._client.create_bucket(Bucket=bucket)
    return store


def test_a_blob_comes_back_as_it_went_in(blobs: BlobStore) -> None:
    data = png(16, 16)
    blobs.put("workorders/1/abc.png", data, "image/png")
    blobs.put("workorders/1/abc.png", data, "image/png")  # the same photo twice: one blob
    assert blobs.get("workorders/1/abc.png") == data
    with pytest.raises(NotFound):
        blobs.get("workorders/1/missing.png")


def test_the_s3_store_keeps_the_type_under_its_prefix(moto_server: str) -> None:
    bucket = f"facmon-{secrets.token_hex(4)}"
    store = S3BlobStore.from_settings(s3_settings(moto_server, bucket))
    store._client.create_bucket(Bucket=bucket)
    store.put("workorders/7/x.jpg", JPEG, "image/jpeg")
    head = store._client.head_object(Bucket=bucket, Key="attachments/workorders/7/x.jpg")
    assert (head["ContentType"], head["ContentLength"]) == ("image/jpeg", len(JPEG))


def test_a_missing_bucket_is_reported_as_unavailable(moto_server: str) -> None:
    store = S3BlobStore.from_settings(s3_settings(moto_server, "no-such-bucket"))
    with pytest.raises(ServiceUnavailable):
        store.put("workorders/1/a.png", png(), "image/png")


def test_the_disk_store_refuses_keys_that_leave_its_directory(tmp_path: Path) -> None:
    store = DiskBlobStore(tmp_path / "blobs")
    for key in ("../escape.png", "/etc/passwd", "a/../../b", "a\\..\\b", ""):
        with pytest.raises(ValueError, match="invalid blob key"):
            store.put(key, b"x", "image/png")
    assert not (tmp_path / "escape.png").exists()


def test_s3_settings_need_a_bucket() -> None:
    with pytest.raises(ConfigError, match="s3_bucket is required"):
        load_settings(attachments={"backend": "s3"})
    assert load_settings().attachments.backend == "disk"


@pytest.mark.parametrize(("data", "kind"), [
    (png(), "image/png"), (JPEG, "image/jpeg"), (b"RIFF\x00\x00\x00\x00WEBPVP8 ", "image/webp"),
    (b"\x00\x00\x00\x18ftypheic\x00\x00", "image/heic"), (b"GIF89a\x01\x00", "image/gif"),
    (b"%PDF-1.7", None), (b"<svg xmlns='http://www.w3.org/2000/svg'/>", None), (b"", None),
])
def test_images_are_known_by_their_bytes(data: bytes, kind: str | None) -> None:
    assert sniff_image(data) == kind


def test_client_file_names_lose_their_paths() -> None:
    assert clean_filename("C:\\Users\\li\\IMG_0001.JPG") == "IMG_0001.JPG"
    assert clean_filename("../../etc/passwd") == "passwd"
    assert clean_filename("a\nb.png") == "ab.png"
    assert clean_filename("/") == "photo"


@pytest.fixture
def desk(tmp_path: Path) -> Iterator[tuple[Attachments, Database]]:
    db = Database(f"sqlite:///{tmp_path / 'records.sqlite3'}")
    db.upgrade()
    clock = ManualClock(T0)
    book = WorkOrderBook(db, EventBus(), clock)
    yield Attachments(db, book, DiskBlobStore(tmp_path / "blobs"), clock, max_bytes=2048), db
    db.dispose()


def test_a_photo_is_stored_recorded_and_in_the_order_history(desk: tuple[Attachments, Database]) -> None:
    attachments, db = desk
    wo, _ = db.work_orders.create(WorkOrderKind.REQUEST, WorkOrderPriority.NORMAL, "leak", "s1", None, T0, T0)
    data = png(8, 8)
    stored = attachments.add(wo.id, "../leak.png", data, "Ms Chen")
    digest = hashlib.sha256(data).hexdigest()
    assert (stored.filename, stored.content_type, stored.size, stored.sha256, stored.storage_key) == (
        "leak.png", "image/png", len(data), digest, f"workorders/{wo.id}/{digest}.png")
    assert attachments.list(wo.id) == [stored]
    assert attachments.read(wo.id, stored.id) == (stored, data)
    event = db.work_orders.history(wo.id)[-1]
    assert (event.action, event.actor, event.note, event.data) == (
        WorkOrderAction.ATTACHMENT, "Ms Chen", "leak.png",
        {"attachment_id": stored.id, "content_type": "image/png", "size": len(data)})
    other, _ = db.work_orders.create(WorkOrderKind.REQUEST, WorkOrderPriority.NORMAL, "x", "s1", None, T0, T0)
    with pytest.raises(NotFound):
        attachments.read(other.id, stored.id)  # not this order's


def test_too_large_and_non_images_are_refused_before_anything_is_stored(
        desk: tuple[Attachments, Database], tmp_path: Path) -> None:
    attachments, db = desk
    wo, _ = db.work_orders.create(WorkOrderKind.REQUEST, WorkOrderPriority.NORMAL, "leak", "s1", None, T0, T0)
    with pytest.raises(TooLarge, match="2048 bytes"):
        attachments.add(wo.id, "big.jpg", JPEG + bytes(2048), "x")
    with pytest.raises(InvalidRequest, match="only images"):
        attachments.add(wo.id, "notes.pdf", b"%PDF-1.7 ...", "x")
    with pytest.raises(NotFound):
        attachments.add(999, "a.png", png(), "x")
    assert attachments.list(wo.id) == []
    assert len(db.work_orders.history(wo.id)) == 1
    assert not (tmp_path / "blobs").exists()

"""Photos attached to work orders: checked (size, image type), kept in a blob store, recorded on the order.

``BlobStore`` is the small interface the bytes go through: ``DiskBlobStore`` (a directory) or
``S3BlobStore`` (any S3-compatible service, through boto3), chosen by ``[attachments] backend``. The
record (``storage.records.attachments``) names the blob by its key; the order's history gets an
``attachment`` event. The type is judged from the bytes, never from what the client claims.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from datetime import datetime
from pathlib import Path, PurePosixPath
from typing import Any, Protocol

from core.clock import Clock
from core.domain import WorkOrderAction
from core.errors import InvalidRequest, NotFound, ServiceUnavailable, TooLarge
from core.settings import AttachmentSettings
from storage.records import Database
from storage.records.attachments import Attachment
from workorders.book import WorkOrderBook

# What phones send: JPEG, PNG, WebP, HEIC (iPhones), GIF. Magic numbers at the start of the file.
IMAGE_TYPES = {"image/jpeg": ".jpg", "image/png": ".png", "image/webp": ".webp", "image/heic": ".heic",
               "image/gif": ".gif"}


def sniff_image(data: bytes) -> str | None:
    """The image type of ``data`` from its first bytes, or None if it is not one of ``IMAGE_TYPES``."""
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    if data[4:8] == b"ftyp" and data[8:12] in (b"heic", b"heix", b"mif1", b"msf1"):
        return "image/heic"
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return "image/gif"
    return None


class BlobStore(Protocol):
    """Where attachment bytes live, by key (``workorders/<id>/<sha256>.<ext>``)."""

    def put(self, key: str, data: bytes, content_type: str) -> None: ...

    def get(self, key: str) -> bytes:
        """The bytes under ``key``; NotFound if there are none."""
        ...


class DiskBlobStore:
    """Blobs as files under ``directory``; a write lands whole or not at all (temporary file, rename)."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def _path(self, key: str) -> Path:
        parts = PurePosixPath(key).parts
        if not parts or any(part in ("", ".", "..") or "\\" in part for part in parts) or key.startswith("/"):
            raise ValueError(f"invalid blob key {key!r}")
        return self.directory.joinpath(*parts)

    def put(self, key: str, data: bytes, content_type: str) -> None:  # noqa: ARG002 - the key's suffix says it
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".upload-")
        try:
            with os.fdopen(handle, "wb") as file:
                file.write(data)
                file.flush()
                os.fsync(file.fileno())
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise

    def get(self, key: str) -> bytes:
        try:
            return self._path(key).read_bytes()
        except FileNotFoundError:
            raise NotFound(f"attachment blob {key!r} not found") from None


class S3BlobStore:
    """Blobs as objects in an S3 bucket (AWS, MinIO, Ceph ...); boto3's errors are translated here."""

    def __init__(self, client: Any, bucket: str, prefix: str = "") -> None:
        self._client = client
        self.bucket = bucket
        self.prefix = prefix

    @classmethod
    def from_settings(cls, settings: AttachmentSettings) -> S3BlobStore:
        import boto3  # loaded only where S3 is configured: it costs ~0.15 s at every start

        def secret(value: Any) -> str | None:
            return None if value is None else str(value.get_secret_value())

        client = boto3.client("s3", endpoint_url=settings.s3_endpoint_url, region_name=settings.s3_region,
                              aws_access_key_id=secret(settings.s3_access_key_id),
                              aws_secret_access_key=secret(settings.s3_secret_access_key))
        return cls(client, settings.s3_bucket or "", settings.s3_prefix)

    def put(self, key: str, data: bytes, content_type: str) -> None:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            self._client.put_object(Bucket=self.bucket, Key=self.prefix + key, Body=data, ContentType=content_type)
        except (BotoCoreError, ClientError) as error:
            raise ServiceUnavailable(f"attachment store: {error}") from error

    def get(self, key: str) -> bytes:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            body = self._client.get_object(Bucket=self.bucket, Key=self.prefix + key)["Body"]
            return bytes(body.read())
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
                raise NotFound(f"attachment blob {key!r} not found") from None
            raise ServiceUnavailable(f"attachment store: {error}") from error
        except BotoCoreError as error:
            raise ServiceUnavailable(f"attachment store: {error}") from error


def open_blob_store(settings: AttachmentSettings) -> BlobStore:
    """The blob store ``settings`` choose."""
    if settings.backend == "s3":
        return S3BlobStore.from_settings(settings)
    return DiskBlobStore(settings.directory)


def clean_filename(name: str) -> str:
    """The last path component of a client's file name, without control characters, at most 200 chars."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    base = "".join(ch for ch in base if ch.isprintable()).strip()
    return base[:200] or "photo"


class Attachments:
    """Adds photos to work orders and reads them back."""

    def __init__(self, db: Database, book: WorkOrderBook, blobs: BlobStore, clock: Clock, max_bytes: int) -> None:
        self._db = db
        self._book = book
        self._blobs = blobs
        self._clock = clock
        self.max_bytes = max_bytes

    def add(self, work_order_id: int, filename: str, data: bytes, actor: str) -> Attachment:
        """Keep ``data`` (an image of at most ``max_bytes``) on the order: the blob, its record, and an
        ``attachment`` event in the order's history."""
        if len(data) > self.max_bytes:
            raise TooLarge(f"the file is larger than the limit of {self.max_bytes} bytes")
        content_type = sniff_image(data)
        if content_type is None:
            raise InvalidRequest("only images can be attached: " + ", ".join(IMAGE_TYPES))
        self._db.work_orders.get(work_order_id)  # NotFound before any bytes are stored
        digest = hashlib.sha256(data).hexdigest()
        key = f"workorders/{work_order_id}/{digest}{IMAGE_TYPES[content_type]}"
        self._blobs.put(key, data, content_type)  # the same photo twice is the same blob
        now: datetime = self._clock.now()
        attachment = self._db.attachments.add(Attachment(0, work_order_id, clean_filename(filename), content_type,
                                                         len(data), digest, key, actor, now))
        self._book.record(work_order_id, WorkOrderAction.ATTACHMENT, actor, attachment.filename,
                          data={"attachment_id": attachment.id, "content_type": content_type, "size": len(data)})
        return attachment

    def list(self, work_order_id: int) -> list[Attachment]:
        return self._db.attachments.list(work_order_id)

    def read(self, work_order_id: int, attachment_id: int) -> tuple[Attachment, bytes]:
        """The attachment and its bytes; NotFound unless it belongs to ``work_order_id``."""
        attachment = self._db.attachments.get(attachment_id)
        if attachment.work_order_id != work_order_id:
            raise NotFound(f"attachment {attachment_id} not found on work order {work_order_id}")
        return attachment, self._blobs.get(attachment.storage_key)

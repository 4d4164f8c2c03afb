"""Photos on work orders over the API: multipart upload, list, download; refused sizes and types."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient

from people.model import Role
from tests.api.conftest import ATTACHMENT_MAX_BYTES
from tests.api.principals import act_as
from tests.workorders.test_attachments import JPEG, png


def order(client: TestClient) -> int:
    response = client.post("/api/v1/workorders", json={"title": "Leak under sink", "site_id": "north"})
    assert response.status_code == 201
    return int(response.json()["id"])


def upload(client: TestClient, work_order_id: int, name: str, data: bytes, claimed: str = "image/png",
           **form: Any) -> Any:
    return client.post(f"/api/v1/workorders/{work_order_id}/attachments", files={"file": (name, data, claimed)},
                       data=form)


def test_a_photo_is_uploaded_listed_downloaded_and_in_the_history(app: FastAPI, client: TestClient) -> None:
    work_order_id = order(client)
    data = png(32, 24)
    act_as(app, "tech-07", Role.DISPATCHER)
    response = upload(client, work_order_id, "under sink.png", data)
    assert response.status_code == 201, response.text
    attachment = response.json()
    assert (attachment["filename"], attachment["content_type"], attachment["size"], attachment["uploaded_by"]) == (
        "under sink.png", "image/png", len(data), "tech-07")
    assert client.get(f"/api/v1/workorders/{work_order_id}/attachments").json() == {
        "items": [attachment], "total": 1, "next_cursor": None}
    download = client.get(f"/api/v1/workorders/{work_order_id}/attachments/{attachment['id']}")
    assert download.status_code == 200
    assert (download.content, download.headers["content-type"]) == (data, "image/png")
    assert download.headers["content-disposition"] == "inline; filename*=UTF-8''under%20sink.png"
    history = client.get(f"/api/v1/workorders/{work_order_id}").json()["history"]
    assert (history[-1]["action"], history[-1]["data"]["attachment_id"]) == ("attachment", attachment["id"])


def test_the_type_comes_from_the_bytes_not_the_claim(client: TestClient) -> None:
    work_order_id = order(client)
    attachment = upload(client, work_order_id, "photo.png", JPEG, claimed="image/png").json()
    assert attachment["content_type"] == "image/jpeg"
    refused = upload(client, work_order_id, "evil.png", b"<svg onload=alert(1)>", claimed="image/png")
    assert refused.status_code == 422
    assert "only images can be attached" in refused.json()["detail"]


def test_a_file_over_the_limit_is_413_and_nothing_is_kept(client: TestClient) -> None:
    work_order_id = order(client)
    response = upload(client, work_order_id, "huge.jpg", JPEG + bytes(ATTACHMENT_MAX_BYTES))
    assert response.status_code == 413
    assert f"limit of {ATTACHMENT_MAX_BYTES} bytes" in response.json()["detail"]
    assert client.get(f"/api/v1/workorders/{work_order_id}/attachments").json()["items"] == []


def test_unknown_orders_and_attachments_are_404(client: TestClient) -> None:
    work_order_id = order(client)
    assert upload(client, 404, "a.png", png()).status_code == 404
    assert client.get("/api/v1/workorders/404/attachments").status_code == 404
    assert client.get(f"/api/v1/workorders/{work_order_id}/attachments/1").status_code == 404
    assert client.post(f"/api/v1/workorders/{work_order_id}/attachments").status_code == 422  # no file

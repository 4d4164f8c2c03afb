"""QR codes of sites and assets: read back by an independent decoder (zxing-cpp), they open the form."""

from __future__ import annotations

import io

import zxingcpp
from PIL import Image

from tests.api.conftest import TestClient


def decoded(png: bytes) -> str:
    results = zxingcpp.read_barcodes(Image.open(io.BytesIO(png)))
    assert len(results) == 1
    return results[0].text


def test_a_site_code_opens_the_form_of_that_site(client: TestClient) -> None:
    answer = client.get("/api/v1/sites/north/qr.png", params={"scale": 6})
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "image/png"
    assert decoded(answer.content) == "http://testserver/request?site=north"


def test_an_asset_code_names_the_asset(client: TestClient) -> None:
    assert decoded(client.get("/api/v1/assets/north-lift-a/qr.png").content) == (
        "http://testserver/request?asset=north-lift-a")


def test_the_svg_is_an_svg_with_a_title(client: TestClient) -> None:
    answer = client.get("/api/v1/assets/north-lift-a/qr.svg")
    assert answer.headers["content-type"] == "image/svg+xml"
    assert answer.text.startswith("<?xml")
    assert "<title>facmon asset north-lift-a</title>" in answer.text


def test_unknown_places_and_formats_are_refused(client: TestClient) -> None:
    assert client.get("/api/v1/sites/atlantis/qr.png").status_code == 404
    assert client.get("/api/v1/assets/nope/qr.svg").status_code == 404
    assert client.get("/api/v1/sites/north/qr.gif").status_code == 422
    assert client.get("/api/v1/sites/north/qr.png", params={"scale": 0}).status_code == 422

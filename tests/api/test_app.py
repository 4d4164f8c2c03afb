"""The application: metadata, OpenAPI document, static console files."""

from __future__ import annotations

from importlib.metadata import version

from fastapi.testclient import TestClient


def test_openapi_names_the_service_and_tags_each_resource(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()
    assert schema["info"]["title"] == "facmon"
    assert schema["info"]["version"] == version("facmon")
    tags = {tag for path in schema["paths"].values() for op in path.values() for tag in op["tags"]}
    assert {"assets", "alarms", "work orders", "forecasts", "dead letters", "stats", "events"} <= tags
    assert "HTTPBearer" in schema["components"]["securitySchemes"]


def test_route_docstrings_become_the_openapi_text(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()
    acknowledge = schema["paths"]["/api/v1/alarms/{alarm_id}/acknowledge"]["post"]
    assert "409" in acknowledge["description"]


def test_docs_page_is_served(client: TestClient) -> None:
    assert client.get("/docs").status_code == 200


def test_console_assets_are_served_from_the_package(client: TestClient) -> None:
    script = client.get("/console/console.js")
    assert script.status_code == 200
    assert "EventSource" in script.text
    assert client.get("/console/console.css").status_code == 200
    assert client.get("/console/missing.js").status_code == 404


def test_console_loads_nothing_from_the_internet(client: TestClient) -> None:
    for path in ("/", "/console/console.js", "/console/console.css"):
        text = client.get(path).text
        assert "http://" not in text
        assert "https://" not in text

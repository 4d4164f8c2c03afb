"""The application: metadata, OpenAPI document, static console files."""

from __future__ import annotations

import re
from importlib.metadata import version

from fastapi.testclient import TestClient

from api.app import CONSOLE_DIR


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
    page = client.get("/")
    assert page.status_code == 200
    assert 'src="console/app.js"' in page.text
    for path in ("/console/app.js", "/console/lib/api.js", "/console/screens/index.js",
                 "/console/vendor/i18next/i18next.js", "/console/vendor/uplot/uPlot.esm.js",
                 "/console/locales/zh-CN/common.json", "/console/console.css"):
        assert client.get(path).status_code == 200, path
    assert client.get("/console/missing.js").status_code == 404


def test_console_loads_nothing_from_the_internet(client: TestClient) -> None:
    for file in CONSOLE_DIR.rglob("*"):
        if file.suffix not in {".js", ".html", ".css", ".json"}:
            continue
        text = file.read_text(encoding="utf-8")
        imports = re.findall(r"""^\s*(?:import|export)\s[^\n]*?from\s*["']([^"']+)["']""", text, re.MULTILINE)
        imports += re.findall(r"""\bimport\(\s*["']([^"']+)["']""", text)
        assert all(name.startswith(".") for name in imports), (file, imports)  # only our own modules
        if "vendor" not in file.parts:  # the vendored libraries' comments cite web pages, nothing is loaded
            assert "http://" not in text, file
            assert "https://" not in text, file

"""Portfolio files: the shipped default and the errors a wrong file gets."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from core.domain import AssetKind
from core.errors import ConfigError
from core.wire import is_valid_id
from simulators.portfolio import default_portfolio, load_portfolio, parse_portfolio

GOOD = """
sites:
  - id: tower
    name: The Tower
    usage: office
    assets:
      - {id: tower-pump-1, kind: pump, name: P1, installed_on: 2019-05-01, attributes: {role: standby, rated_kw: 4}}
      - {id: tower-light-1, kind: lighting, report_interval_s: 120}
"""


def test_default_portfolio_has_two_sites_and_the_promised_assets() -> None:
    portfolio = default_portfolio()
    assert [site.id for site in portfolio.sites] == ["riverside", "harbour"]
    kinds = [asset.kind for asset in portfolio.assets]
    assert (kinds.count(AssetKind.ELEVATOR), kinds.count(AssetKind.PUMP), kinds.count(AssetKind.LIGHTING)) == (4, 6, 20)
    ids = [asset.id for asset in portfolio.assets]
    assert len(set(ids)) == len(ids)
    assert all(is_valid_id(asset_id) for asset_id in ids)
    for asset in portfolio.assets:
        assert asset.report_interval_s == (300 if asset.kind is AssetKind.LIGHTING else 60)


def test_default_pumps_come_in_duty_standby_pairs() -> None:
    pairs: dict[str, list[str]] = {}
    for asset in default_portfolio().assets:
        if asset.kind is AssetKind.PUMP:
            pairs.setdefault(str(asset.attributes["duty_pair"]), []).append(str(asset.attributes["role"]))
    assert len(pairs) == 3
    assert all(sorted(roles) == ["duty", "standby"] for roles in pairs.values())


def test_a_portfolio_file_loads_with_defaults_filled_in(tmp_path: Path) -> None:
    path = tmp_path / "portfolio.yaml"
    path.write_text(GOOD)
    portfolio = load_portfolio(path)
    pump, light = portfolio.assets
    assert portfolio.sites[0].name == "The Tower"
    assert (pump.site_id, pump.kind, pump.installed_on, pump.report_interval_s) == (
        "tower", AssetKind.PUMP, date(2019, 5, 1), 60.0)
    assert pump.attributes == {"usage": "office", "role": "standby", "rated_kw": 4.0}
    assert (light.name, light.report_interval_s) == ("tower-light-1", 120.0)
    assert portfolio.assets_of("tower") == [pump, light]


@pytest.mark.parametrize(("text", "names"), [
    ("sites: {}", "'sites'"),
    ("sites:\n  - {id: 'bad id', assets: []}", "sites[0]"),
    ("sites:\n  - {id: s, assets: [], colour: red}", "colour"),
    ("sites:\n  - {id: s, usage: factory, assets: []}", "usage"),
    ("sites:\n  - {id: s, assets: [{id: a1, kind: boiler}]}", "asset 'a1'"),
    ("sites:\n  - {id: s, assets: [{kind: pump}]}", "missing id"),
    ("sites:\n  - {id: s, assets: [{id: a1, kind: pump, installed_on: someday}]}", "installed_on"),
    ("sites:\n  - {id: s, assets: [{id: a1, kind: pump, report_interval_s: 0}]}", "report_interval_s"),
    ("sites:\n  - {id: s, assets: [{id: a1, kind: pump, attributes: {role: spare}}]}", "role"),
    ("sites:\n  - {id: s, assets: [{id: a1, kind: pump, attributes: {x: [1]}}]}", "attribute 'x'"),
    ("sites:\n  - {id: s, assets: [{id: a1, kind: pump}, {id: a1, kind: lighting}]}", "'a1' is used twice"),
    ("sites:\n  - {id: s, assets: []}\n  - {id: s, assets: []}", "'s' is used twice"),
    ("sites: [", "YAML"),
])
def test_errors_name_the_file_and_the_entry(text: str, names: str) -> None:
    with pytest.raises(ConfigError, match=r"site\.yaml") as caught:
        parse_portfolio(text, "site.yaml")
    assert names in str(caught.value)


def test_a_missing_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"nothing\.yaml"):
        load_portfolio(tmp_path / "nothing.yaml")


def test_a_sites_time_zone_is_read_and_an_unknown_one_is_refused_naming_the_site() -> None:
    text = "sites:\n  - id: s\n    time_zone: {zone}\n    assets: [{{id: a1, kind: pump}}]\n"
    assert parse_portfolio(text.format(zone="Europe/Berlin"), "site.yaml").sites[0].time_zone == "Europe/Berlin"
    without = text.format(zone="UTC").replace("    time_zone: UTC\n", "")
    assert parse_portfolio(without, "site.yaml").sites[0].time_zone is None
    with pytest.raises(ConfigError, match=r"site 's'.*time_zone.*Mars/Olympus"):
        parse_portfolio(text.format(zone="Mars/Olympus"), "site.yaml")

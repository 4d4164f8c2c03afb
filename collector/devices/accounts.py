"""Who may publish and subscribe where on the broker: one account per device, per gateway, and the collector.

Pure: assets in, accounts out. A device may write only under its own topics
(``facmon/v1/<site>/<kind>/<asset>/#``: telemetry, status and its last will, line protocol). A Sparkplug B
edge node (one gateway per site, ``<site>-gateway``, the simulators' convention and docs/collector.md's
mapping group = site, device = asset) may write its node's births, data and death and those of its
site's assets only, and read the commands addressed to it. The collector reads everything facmon decodes
and writes only Sparkplug node commands (its rebirth requests).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from core.domain import Asset
from core.errors import ConfigError
from core.wire import TOPIC_ROOT, is_valid_id

SPARKPLUG_ROOT = "spBv1.0"
NODE_MESSAGES = ("NBIRTH", "NDATA", "NDEATH")
DEVICE_MESSAGES = ("DBIRTH", "DDATA", "DDEATH")


@dataclass(frozen=True, slots=True)
class Account:
    """A broker user and the topic filters it may write (publish) and read (subscribe to)."""

    username: str
    writes: tuple[str, ...]
    reads: tuple[str, ...] = ()
    note: str = ""


def gateway_id(site_id: str) -> str:
    """The Sparkplug edge node id of a site's gateway."""
    return f"{site_id}-gateway"


def device_account(asset: Asset, topic_root: str = TOPIC_ROOT) -> Account:
    return Account(asset.id, (f"{topic_root}/{asset.site_id}/{asset.kind.value}/{asset.id}/#",),
                   note=f"{asset.kind.value} {asset.name!r} at {asset.site_id}")


def gateway_account(site_id: str, assets: Iterable[Asset]) -> Account:
    node, group = gateway_id(site_id), f"{SPARKPLUG_ROOT}/{site_id}"
    writes = [f"{group}/{message}/{node}" for message in NODE_MESSAGES]
    writes += [f"{group}/{message}/{node}/{asset.id}" for asset in assets for message in DEVICE_MESSAGES]
    reads = (f"{group}/NCMD/{node}", f"{group}/DCMD/{node}/#", f"{SPARKPLUG_ROOT}/STATE/#")
    return Account(node, tuple(writes), reads, note=f"Sparkplug B edge node of site {site_id}")


def collector_account(username: str, topic_root: str = TOPIC_ROOT) -> Account:
    return Account(username, (f"{SPARKPLUG_ROOT}/+/NCMD/#",), (f"{topic_root}/#", f"{SPARKPLUG_ROOT}/#"),
                   note="the facmon collector")


def accounts_for(assets: Iterable[Asset], collector_username: str, sparkplug_gateways: bool = False,
                 topic_root: str = TOPIC_ROOT) -> list[Account]:
    """The collector's account, one per device and (optionally) one per site's Sparkplug gateway."""
    assets = sorted(assets, key=lambda a: a.id)
    unsafe = sorted({name for a in assets for name in (a.id, a.site_id) if not is_valid_id(name)})
    if unsafe:  # an id with a space, '+', '#' or a newline would widen or break the ACL
        raise ConfigError(f"ids not fit for broker topics and usernames: {', '.join(map(repr, unsafe))}")
    accounts = [collector_account(collector_username, topic_root)]
    accounts += [device_account(asset, topic_root) for asset in assets]
    if sparkplug_gateways:
        for site_id in sorted({asset.site_id for asset in assets}):
            accounts.append(gateway_account(site_id, [a for a in assets if a.site_id == site_id]))
    names = [account.username for account in accounts]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise ConfigError(f"broker usernames used twice (an asset named like the collector or a gateway?): "
                          f"{', '.join(duplicates)}")
    return accounts


def render_acl(accounts: Iterable[Account]) -> str:
    """Mosquitto's ``acl_file``: a ``user`` block per account; anything not listed is denied."""
    lines = ["# Written by `facmon devices provision` from the asset registry; edits are overwritten.",
             "# Anything not allowed here is denied (Mosquitto ACL semantics).", ""]
    for account in accounts:
        lines.append(f"# {account.note}" if account.note else "#")
        lines.append(f"user {account.username}")
        lines += [f"topic write {topic}" for topic in account.writes]
        lines += [f"topic read {topic}" for topic in account.reads]
        lines.append("")
    return "\n".join(lines)

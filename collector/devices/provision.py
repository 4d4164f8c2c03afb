"""`facmon devices provision`: the broker's password file or certificates, ACL and listener config, on disk.

Re-running is safe: a device keeps its password or certificate, a new asset gets one, a removed asset loses
its account (the ACL, the password file and its certificate files). The plain passwords are kept in
``credentials.json`` (mode 0600) to hand to the devices; the broker only ever sees their hashes.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from collector.devices.accounts import accounts_for, render_acl
from collector.devices.certificates import CertificateAuthority
from collector.devices.passwords import new_password, render_password_file
from core.domain import Asset
from core.settings import DevicesSettings, MqttSettings

DEFAULT_COLLECTOR_USERNAME = "facmon-collector"
CREDENTIALS = "credentials.json"
PASSWORDS = "passwords"
ACL = "acl"
CONFIG = "mosquitto.conf"
CLIENTS = "clients"


@dataclass(frozen=True, slots=True)
class Provisioned:
    """What a run wrote: the directory, the broker config to include, and which accounts changed."""

    directory: Path
    auth: str
    config_file: Path
    accounts: list[str]
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"directory": str(self.directory), "auth": self.auth, "mosquitto_conf": str(self.config_file),
                "accounts": len(self.accounts), "added": self.added, "removed": self.removed}


def collector_username(mqtt: MqttSettings) -> str:
    return mqtt.username or DEFAULT_COLLECTOR_USERNAME


def provision(assets: Iterable[Asset], devices: DevicesSettings, mqtt: MqttSettings, now: datetime) -> Provisioned:
    """Write the broker's account files for ``assets`` into ``devices.directory``."""
    directory = devices.directory.resolve()
    directory.mkdir(parents=True, exist_ok=True)
    accounts = accounts_for(assets, collector_username(mqtt), devices.sparkplug_gateways, mqtt.topic_prefix)
    names = [account.username for account in accounts]
    if devices.auth == "password":
        added, removed, auth_lines = _passwords(directory, names, mqtt)
    else:
        added, removed, auth_lines = _certificates(directory, names, devices, now)
    _write(directory / ACL, render_acl(accounts))
    config = directory / CONFIG
    _write(config, _config(devices, directory, auth_lines))
    return Provisioned(directory, devices.auth, config, names, added, removed)


def _passwords(directory: Path, names: list[str], mqtt: MqttSettings) -> tuple[list[str], list[str], list[str]]:
    path = directory / CREDENTIALS
    known: dict[str, str] = json.loads(path.read_text()) if path.exists() else {}
    passwords = {name: known.get(name) or new_password() for name in names}
    if mqtt.password is not None:  # the collector's password is the one its settings already carry
        passwords[collector_username(mqtt)] = mqtt.password.get_secret_value()
    _write(path, json.dumps(passwords, indent=2, sort_keys=True) + "\n", private=True)
    _write(directory / PASSWORDS, render_password_file(passwords), private=True)
    return ([n for n in names if n not in known], sorted(set(known) - set(names)),
            ["allow_anonymous false", f"password_file {directory / PASSWORDS}"])


def _certificates(directory: Path, names: list[str], devices: DevicesSettings,
                  now: datetime) -> tuple[list[str], list[str], list[str]]:
    ca = CertificateAuthority(directory, devices.certificate_days, now)
    server = ca.issue_server(directory / "server.crt", directory / "server.key", devices.broker_names)
    clients = directory / CLIENTS
    known = {path.stem for path in clients.glob("*.crt")}
    for name in names:
        ca.issue_client(clients / f"{name}.crt", clients / f"{name}.key", name)
    removed = sorted(known - set(names))
    for name in removed:  # a removed asset's certificate must not be handed out again
        for suffix in (".crt", ".key"):
            (clients / f"{name}{suffix}").unlink(missing_ok=True)
    return ([n for n in names if n not in known], removed,
            ["allow_anonymous false", f"cafile {ca.cert_file}", f"certfile {server.cert_file}",
             f"keyfile {server.key_file}", "require_certificate true", "use_identity_as_username true"])


def _config(devices: DevicesSettings, directory: Path, auth_lines: list[str]) -> str:
    port = devices.listener_port or (1883 if devices.auth == "password" else 8883)
    listener = f"listener {port} {devices.listener_host}".rstrip()
    return "\n".join([
        f"# Written by `facmon devices provision` (auth = {devices.auth}); edits are overwritten.",
        "# Include it from mosquitto.conf (`include_dir`) or start `mosquitto -c` with it; after each",
        "# provisioning run, reload the broker (SIGHUP) so it reads the new accounts.",
        listener, *auth_lines, f"acl_file {directory / ACL}", ""])



def _write(path: Path, text: str, private: bool = False) -> None:
    path.touch(mode=0o600 if private else 0o644)
    path.write_text(text)

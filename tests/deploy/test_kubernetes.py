"""deploy/k8s: every manifest valid against the Kubernetes schemas (kubernetes-validate, strict), and a
topology facmon's settings accept: the StatefulSet's ordinals are the partitions, the probes ask /healthz on
api.port, the spool claim is mounted where the collector spools, the Secret has every key referenced."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest

from core.partitions import Ownership, coverage
from core.settings import Settings
from simulators.portfolio import load_portfolio
from tests.deploy.deployment import K8S, read_documents, read_yaml, settings_of

MANIFESTS = sorted(path for path in K8S.glob("*.yaml") if path.name != "kustomization.yaml")
# apps.kubernetes.io/pod-index, the ordinal label the partition index comes from, is on from 1.28.
VERSIONS = ["1.28.0", kubernetes_validate.latest_version()]
POD_INDEX = "metadata.labels['apps.kubernetes.io/pod-index']"


def resources() -> dict[tuple[str, str], dict[str, Any]]:
    """(kind, name) -> resource, over every manifest."""
    return {(doc["kind"], doc["metadata"]["name"]): doc for path in MANIFESTS for doc in read_documents(path)}


def container(kind: str, name: str) -> dict[str, Any]:
    [only] = resources()[kind, name]["spec"]["template"]["spec"]["containers"]
    return only  # type: ignore[no-any-return]


def secret_values() -> dict[str, str]:
    return resources()["Secret", "facmon"]["stringData"]  # type: ignore[no-any-return]


def environment(spec: dict[str, Any], ordinal: int | None = None) -> dict[str, str]:
    """The container's environment as the kubelet would give it to pod ``ordinal``."""
    env = {}
    for variable in spec.get("env", []):
        source = variable.get("valueFrom", {})
        if "value" in variable:
            env[variable["name"]] = variable["value"]
        elif source.get("fieldRef", {}).get("fieldPath") == POD_INDEX:
            assert ordinal is not None
            env[variable["name"]] = str(ordinal)
        elif "secretKeyRef" in source:
            env[variable["name"]] = secret_values()[source["secretKeyRef"]["key"]]
        else:
            raise AssertionError(f"unexpected source of {variable['name']}: {source}")
    return env


def settings(tmp_path: Path, spec: dict[str, Any], ordinal: int | None = None) -> Settings:
    config = tmp_path / "facmon.toml"
    config.write_text(resources()["ConfigMap", "facmon-config"]["data"]["facmon.toml"])
    return settings_of(config, environment(spec, ordinal))


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("path", MANIFESTS, ids=lambda path: path.name)
def test_the_manifest_is_valid_against_the_kubernetes_schemas(path: Path, version: str) -> None:
    for document in read_documents(path):
        kubernetes_validate.validate(document, version, strict=True)


def test_the_validation_refuses_a_misspelt_field() -> None:
    statefulset = copy.deepcopy(resources()["StatefulSet", "facmon-ingest"])
    statefulset["spec"]["template"]["spec"]["containers"][0]["livenesProbe"] = {}
    with pytest.raises(kubernetes_validate.ValidationError, match="livenesProbe"):
        kubernetes_validate.validate(statefulset, VERSIONS[-1], strict=True)


def test_kustomization_applies_every_manifest_but_the_job_and_the_example_secret() -> None:
    listed = set(read_yaml(K8S / "kustomization.yaml")["resources"])
    assert listed == {path.name for path in MANIFESTS} - {"db-upgrade-job.yaml", "secret.example.yaml"}


def test_each_ordinal_of_the_statefulset_is_a_distinct_partition_below_the_count(tmp_path: Path) -> None:
    statefulset = resources()["StatefulSet", "facmon-ingest"]
    replicas = statefulset["spec"]["replicas"]
    spec = container("StatefulSet", "facmon-ingest")
    names = set()
    for ordinal in range(replicas):
        loaded = settings(tmp_path, spec, ordinal)
        assert loaded.serve.roles == ["ingest"]
        assert loaded.partition.index == ordinal
        assert loaded.partition.count == replicas
        names.add(loaded.partition.name)
    assert len(names) == replicas
    assert statefulset["spec"]["podManagementPolicy"] == "Parallel"


def test_the_partitions_cover_every_site_of_the_configured_portfolio_once(tmp_path: Path) -> None:
    spec = container("StatefulSet", "facmon-ingest")
    partitions = [settings(tmp_path, spec, ordinal).partition
                  for ordinal in range(resources()["StatefulSet", "facmon-ingest"]["spec"]["replicas"])]
    data = resources()["ConfigMap", "facmon-config"]["data"]
    mounts = {mount["name"]: mount["mountPath"] for mount in spec["volumeMounts"]}
    portfolio_path = settings(tmp_path, spec, 0).portfolio
    assert portfolio_path is not None
    assert portfolio_path.parent == Path(mounts["config"])  # the ConfigMap's key, mounted beside facmon.toml
    (tmp_path / portfolio_path.name).write_text(data[portfolio_path.name])
    sites = [site.id for site in load_portfolio(tmp_path / portfolio_path.name).sites]
    claims = {partition.name: Ownership.of(partition) for partition in partitions}
    assert coverage(claims, sites).complete
    assert all(claim.owned(sites) for claim in claims.values())  # the example gives every partition a site


def test_the_spool_claim_is_mounted_where_the_collector_spools(tmp_path: Path) -> None:
    statefulset = resources()["StatefulSet", "facmon-ingest"]
    [claim] = statefulset["spec"]["volumeClaimTemplates"]
    mounts = {mount["name"]: mount["mountPath"] for mount in container("StatefulSet", "facmon-ingest")["volumeMounts"]}
    loaded = settings(tmp_path, container("StatefulSet", "facmon-ingest"), 0)
    assert mounts[claim["metadata"]["name"]] == str(loaded.collector.spool_dir)
    assert statefulset["spec"]["persistentVolumeClaimRetentionPolicy"]["whenScaled"] == "Retain"


def test_the_api_replicas_run_the_api_and_the_scheduler_on_shared_state(tmp_path: Path) -> None:
    loaded = settings(tmp_path, container("Deployment", "facmon-api"))
    assert sorted(loaded.serve.roles) == ["api", "scheduler"]
    assert loaded.events.channel == "postgresql"
    assert loaded.attachments.backend == "s3"  # replicas share no disk
    assert loaded.database.url == secret_values()["database-url"]
    assert resources()["Deployment", "facmon-api"]["spec"]["replicas"] >= 2


@pytest.mark.parametrize("workload", [("StatefulSet", "facmon-ingest"), ("Deployment", "facmon-api")])
def test_probes_ask_healthz_on_the_port_facmon_listens_on(tmp_path: Path, workload: tuple[str, str]) -> None:
    spec = container(*workload)
    ports = {port["name"]: port["containerPort"] for port in spec["ports"]}
    loaded = settings(tmp_path, spec, 0)
    for probe in ("startupProbe", "livenessProbe", "readinessProbe"):
        check = spec[probe]["httpGet"]
        assert check["path"] == "/healthz"
        assert ports[check["port"]] == loaded.api.port
    assert loaded.api.host == "0.0.0.0"


@pytest.mark.parametrize("workload", [("StatefulSet", "facmon-ingest"), ("Deployment", "facmon-api"),
                                      ("Job", "facmon-db-upgrade")])
def test_pods_run_as_a_non_root_user_without_privileges(workload: tuple[str, str]) -> None:
    pod = resources()[workload]["spec"]["template"]["spec"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["runAsUser"] != 0
    [only] = pod["containers"]
    assert only["securityContext"]["allowPrivilegeEscalation"] is False
    assert only["securityContext"]["capabilities"]["drop"] == ["ALL"]


def test_services_and_disruption_budgets_select_the_pods_of_their_workload() -> None:
    found = resources()
    for name in ("facmon-ingest", "facmon-api"):
        workload = found.get(("StatefulSet", name)) or found["Deployment", name]
        labels = workload["spec"]["template"]["metadata"]["labels"]
        assert workload["spec"]["selector"]["matchLabels"].items() <= labels.items()
        assert found["Service", name]["spec"]["selector"].items() <= labels.items()
        assert found["PodDisruptionBudget", name]["spec"]["selector"]["matchLabels"].items() <= labels.items()
    assert found["StatefulSet", "facmon-ingest"]["spec"]["serviceName"] == "facmon-ingest"
    assert found["Service", "facmon-ingest"]["spec"]["clusterIP"] == "None"

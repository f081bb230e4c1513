"""Start real backing services (mosquitto, influxd, postgres) on free loopback ports.

Used by ``homerpm demo`` and by the test fixtures: each service gets a temporary
directory and config, is waited on until it answers, and is stopped by pid. Nothing
here relies on a service the machine happens to be running.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

_SBIN = ("/usr/sbin", "/usr/bin", "/usr/local/sbin", "/usr/local/bin")


class ServiceError(RuntimeError):
    """A service could not be found or did not become ready; the message says how to fix it."""


def find_binary(name: str, install_hint: str) -> str:
    """Locate a service binary; ``HOMERPM_<NAME>_BIN`` overrides the search."""
    override = os.environ.get(f"HOMERPM_{name.upper()}_BIN")
    if override is not None:
        path = override if os.access(override, os.X_OK) else None
    else:
        path = shutil.which(name) or next(
            (f"{d}/{name}" for d in _SBIN if os.access(f"{d}/{name}", os.X_OK)), None
        )
    if path is None:
        raise ServiceError(f"{name} is not installed. Install it with: {install_hint}")
    return path


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


def wait_for_port(host: str, port: int, timeout: float, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise ServiceError(f"process exited with code {proc.returncode} before listening")
        with contextlib.suppress(OSError), socket.create_connection((host, port), timeout=0.2):
            return
        time.sleep(0.05)
    raise ServiceError(f"nothing listened on {host}:{port} within {timeout} s")


@dataclass
class ManagedProcess:
    """A child process we started and will stop by pid."""

    name: str
    proc: subprocess.Popen[bytes]
    log_path: Path

    @property
    def pid(self) -> int:
        return self.proc.pid

    def stop(self, timeout: float = 10.0) -> None:
        if self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout)

    def kill(self) -> None:
        """SIGKILL: the crash case, no chance to clean up."""
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""

    def wait_for_log(self, text: str, timeout: float) -> None:
        """Wait until ``text`` appears in the process's log (a readiness line)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if text in self.log():
                return
            if self.proc.poll() is not None:
                raise ServiceError(f"{self.name} exited with code {self.proc.returncode}:\n"
                                   f"{self.log()[-2000:]}")
            time.sleep(0.1)
        raise ServiceError(f"{self.name} did not log {text!r} within {timeout} s:\n"
                           f"{self.log()[-2000:]}")


def spawn(
    name: str, argv: list[str], workdir: Path, env: dict[str, str] | None = None
) -> ManagedProcess:
    workdir.mkdir(parents=True, exist_ok=True)
    log_path = workdir / f"{name}.log"
    log = log_path.open("ab")
    proc = subprocess.Popen(
        argv,
        stdout=log,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        env={**os.environ, **(env or {})},
        start_new_session=True,
    )
    log.close()
    return ManagedProcess(name, proc, log_path)


@dataclass
class Mosquitto:
    """A private mosquitto broker on a loopback port.

    Anonymous access on ``port``; if ``passwords`` is given, an extra listener on
    ``auth_port`` requires a username/password and applies ``acl`` text.
    """

    workdir: Path
    port: int = 0
    auth_port: int = 0
    passwords: dict[str, str] = field(default_factory=dict)
    acl: str = ""
    host: str = "127.0.0.1"
    process: ManagedProcess | None = None

    def _config(self) -> str:
        lines = [
            "per_listener_settings true",
            "persistence true",
            f"persistence_location {self.workdir}/",
            "autosave_interval 1",
            # Queues sized so a worker's share of an outage is never silently dropped.
            "max_queued_messages 1000000",
            "max_inflight_messages 1000",
            "log_dest stdout",
            "log_type error",
            "log_type warning",
            "log_type notice",
            # As root, mosquitto drops to the `mosquitto` user, which cannot read our temp dir.
            *(["user root"] if os.geteuid() == 0 else []),
            f"listener {self.port} {self.host}",
            "allow_anonymous true",
        ]
        if self.passwords:
            lines += [
                f"listener {self.auth_port} {self.host}",
                "allow_anonymous false",
                f"password_file {self.workdir}/passwords",
                f"acl_file {self.workdir}/acl",
            ]
        return "\n".join(lines) + "\n"

    def start(self, timeout: float = 15.0) -> Mosquitto:
        binary = find_binary("mosquitto", "sudo apt-get install -y mosquitto")
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.port = self.port or free_port(self.host)
        if self.passwords:
            self.auth_port = self.auth_port or free_port(self.host)
            self._write_passwords()
            (self.workdir / "acl").write_text(self.acl)
        conf = self.workdir / "mosquitto.conf"
        conf.write_text(self._config())
        self.process = spawn("mosquitto", [binary, "-c", str(conf)], self.workdir)
        try:
            wait_for_port(self.host, self.port, timeout, self.process.proc)
        except ServiceError as exc:
            raise ServiceError(f"mosquitto: {exc}\n{self.process.log()}") from None
        return self

    def _write_passwords(self) -> None:
        path = self.workdir / "passwords"
        path.write_text("".join(f"{user}:{pw}\n" for user, pw in self.passwords.items()))
        path.chmod(0o600)
        tool = find_binary("mosquitto_passwd", "sudo apt-get install -y mosquitto")
        subprocess.run([tool, "-U", str(path)], check=True, capture_output=True)

    def stop(self) -> None:
        if self.process:
            self.process.stop()

    def kill(self) -> None:
        if self.process:
            self.process.kill()

    def reload(self) -> None:
        """SIGHUP: re-read the password and ACL files without dropping clients."""
        if self.process and self.process.proc.poll() is None:
            self.process.proc.send_signal(signal.SIGHUP)
            time.sleep(0.3)  # mosquitto reloads asynchronously; no ack exists for SIGHUP

    def restart(self, timeout: float = 15.0) -> None:
        """Start again on the same ports with the same persistence directory."""
        self.stop()
        self.start(timeout)


@dataclass
class Influxd:
    """A private InfluxDB 1.x server with its data in ``workdir``."""

    workdir: Path
    port: int = 0
    host: str = "127.0.0.1"
    process: ManagedProcess | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def _config(self, meta_port: int) -> str:
        d = self.workdir
        return f"""reporting-disabled = true
bind-address = "{self.host}:{meta_port}"
[meta]
  dir = "{d}/meta"
[data]
  dir = "{d}/data"
  wal-dir = "{d}/wal"
  query-log-enabled = false
  wal-fsync-delay = "0s"
[http]
  enabled = true
  bind-address = "{self.host}:{self.port}"
  log-enabled = false
[monitor]
  store-enabled = false
[subscriber]
  enabled = false
[continuous_queries]
  enabled = true
  log-enabled = false
"""

    def start(self, timeout: float = 60.0) -> Influxd:
        binary = find_binary("influxd", "sudo apt-get install -y influxdb")
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.port = self.port or free_port(self.host)
        conf = self.workdir / "influxdb.conf"
        conf.write_text(self._config(free_port(self.host)))
        self.process = spawn("influxd", [binary, "-config", str(conf)], self.workdir)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.proc.poll() is not None:
                raise ServiceError(f"influxd exited early:\n{self.process.log()}")
            with (
                contextlib.suppress(OSError),
                urllib.request.urlopen(f"{self.url}/ping", timeout=1) as resp,
            ):
                if resp.status == 204:
                    return self
            time.sleep(0.1)
        raise ServiceError(f"influxd did not answer /ping within {timeout} s\n{self.process.log()}")

    def stop(self) -> None:
        if self.process:
            self.process.stop()

    def restart(self, timeout: float = 60.0) -> None:
        self.stop()
        self.start(timeout)


def _postgres_bin(name: str) -> str:
    for found in sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"), reverse=True):
        return str(found)  # the newest installed major version
    return find_binary(name, "sudo apt-get install -y postgresql")


@dataclass
class Postgres:
    """A private PostgreSQL cluster on a loopback port, trust auth, socket in its data dir.

    initdb refuses to run as root, so when we are root (CI) the cluster is created and run as
    the ``postgres`` system user, in a fresh ``/tmp`` directory that user can reach (pytest's
    temp dirs are 0700 root); :meth:`discard` removes it. ``fast`` turns off fsync: for tests.
    """

    workdir: Path
    port: int = 0
    host: str = "127.0.0.1"
    user: str = "homerpm"
    database: str = "homerpm"
    fast: bool = True
    process: ManagedProcess | None = None
    datadir: Path | None = None

    @property
    def url(self) -> str:
        """libpq URI (``psycopg2.connect(url)``, ``psql url``)."""
        return f"postgresql://{self.user}@{self.host}:{self.port}/{self.database}"

    @property
    def sqlalchemy_url(self) -> str:
        """SQLAlchemy URL naming the installed driver (2.1 would default to psycopg 3)."""
        return self.url.replace("postgresql://", "postgresql+psycopg2://", 1)

    @staticmethod
    def _owner() -> str | None:
        return "postgres" if os.geteuid() == 0 else None

    def _init(self) -> Path:
        if os.geteuid() == 0:
            datadir = Path(tempfile.mkdtemp(prefix="homerpm-pg-"))
            shutil.chown(datadir, "postgres", "postgres")
        else:
            datadir = self.workdir / "data"
            datadir.mkdir(parents=True, exist_ok=True)
            datadir.chmod(0o700)
        argv = [_postgres_bin("initdb"), "-D", str(datadir), "-U", self.user, "--auth=trust",
                "--encoding=UTF8", "--locale=C.UTF-8", "--no-instructions"]
        if self.fast:
            argv.append("--no-sync")
        owner = self._owner()
        done = subprocess.run(argv, capture_output=True, cwd=datadir, user=owner, group=owner)
        if done.returncode != 0:
            raise ServiceError(f"initdb failed:\n{done.stdout.decode()}{done.stderr.decode()}")
        return datadir

    def start(self, timeout: float = 60.0) -> Postgres:
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.port = self.port or free_port(self.host)
        if self.datadir is None:
            self.datadir = self._init()
        argv = [_postgres_bin("postgres"), "-D", str(self.datadir), "-p", str(self.port),
                "-h", self.host, "-k", str(self.datadir), "-c", "max_connections=200"]
        if self.fast:
            argv += ["-c", "fsync=off", "-c", "synchronous_commit=off"]
            argv += ["-c", "full_page_writes=off"]
        log_path = self.workdir / "postgres.log"
        with log_path.open("ab") as log:
            proc = subprocess.Popen(
                argv, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                cwd=self.datadir, start_new_session=True, user=self._owner(), group=self._owner(),
            )
        self.process = ManagedProcess("postgres", proc, log_path)
        self._wait_ready(timeout)
        self._create_database()
        return self

    def _wait_ready(self, timeout: float) -> None:
        assert self.process is not None
        ready = [_postgres_bin("pg_isready"), "-q", "-h", self.host, "-p", str(self.port)]
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.proc.poll() is not None:
                raise ServiceError(f"postgres exited early:\n{self.process.log()}")
            if subprocess.run(ready, capture_output=True).returncode == 0:
                return
            time.sleep(0.1)
        raise ServiceError(f"postgres not ready within {timeout} s\n{self.process.log()}")

    def _create_database(self) -> None:
        if not self.database.isidentifier():
            raise ServiceError(f"database name {self.database!r} must be a plain identifier")
        argv = [_postgres_bin("psql"), "-h", self.host, "-p", str(self.port), "-U", self.user,
                "-d", "postgres", "-tAc",
                f"SELECT 1 FROM pg_database WHERE datname = '{self.database}'"]
        exists = subprocess.run(argv, capture_output=True, check=True)
        if exists.stdout.strip() != b"1":
            subprocess.run(
                [_postgres_bin("createdb"), "-h", self.host, "-p", str(self.port), "-U", self.user,
                 self.database], capture_output=True, check=True,
            )

    def stop(self) -> None:
        if self.process:
            self.process.stop()

    def restart(self, timeout: float = 60.0) -> None:
        self.stop()
        self.start(timeout)

    def discard(self) -> None:
        """Stop and delete the cluster's data directory."""
        self.stop()
        if self.datadir is not None:
            shutil.rmtree(self.datadir, ignore_errors=True)
            self.datadir = None


@contextlib.contextmanager
def running(service: Mosquitto | Influxd) -> Iterator[Mosquitto | Influxd]:
    service.start()
    try:
        yield service
    finally:
        service.stop()

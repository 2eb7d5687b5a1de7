"""The stack a benchmark runs against: PostgreSQL databases and gunicorn servers on loopback."""

import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

import psycopg
import redis

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/loyalty_bench"


class BenchError(Exception):
    """A condition the benchmark cannot run under; the message says what to do."""


@dataclass(frozen=True)
class Config:
    database_url: str
    port: int
    workers: int
    threads: int
    fixed_seconds: float
    saturation_seconds: float
    customers: int
    ledger_rows: int
    redis_url: str

    @classmethod
    def from_environment(cls) -> "Config":
        cores = os.cpu_count() or 1
        return cls(
            database_url=os.environ.get("DATABASE_URL") or DEFAULT_DATABASE_URL,
            port=int(os.environ.get("BENCH_PORT", "8111")),
            # The work of a request is Python (one core per process, GIL) and PostgreSQL
            # (other processes): a worker per core plus one, each with threads to cover
            # the time its requests wait on the database.
            workers=int(os.environ.get("BENCH_WORKERS", str(cores + 1))),
            threads=int(os.environ.get("BENCH_THREADS", "2")),
            fixed_seconds=float(os.environ.get("BENCH_FIXED_SECONDS", "12")),
            saturation_seconds=float(os.environ.get("BENCH_SATURATION_SECONDS", "6")),
            customers=int(os.environ.get("BENCH_CUSTOMERS", "100000")),
            ledger_rows=int(os.environ.get("BENCH_LEDGER_ROWS", "1000000")),
            redis_url=os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379"),
        )

    @property
    def slots(self) -> int:
        return self.workers * self.threads

    @property
    def saturation_clients(self) -> int:
        # Enough to keep every worker thread busy while answers travel back.
        return 2 * self.slots


def database_url_named(url: str, name: str) -> str:
    parts = urlsplit(url)
    return parts._replace(path=f"/{name}").geturl()


def database_name(url: str) -> str:
    return unquote(urlsplit(url).path.lstrip("/"))


def _maintenance_connection(url: str) -> psycopg.Connection:
    parts = urlsplit(url)
    try:
        return psycopg.connect(
            host=parts.hostname or "127.0.0.1",
            port=parts.port or 5432,
            user=unquote(parts.username or "postgres"),
            password=unquote(parts.password) if parts.password else None,
            dbname="postgres",
            connect_timeout=3,
            autocommit=True,
        )
    except psycopg.OperationalError as error:
        raise BenchError(
            f"make bench needs PostgreSQL, and no server answers at {parts.hostname}:{parts.port or 5432} "
            f"(DATABASE_URL={url}).\nStart the local server, or point DATABASE_URL at one where this user may "
            f"create databases.\n  ({str(error).strip()})"
        ) from None


def recreate_databases(url: str, names: list[str]) -> str:
    """Drop and create each database; returns the server's version."""
    for name in names:
        if "bench" not in name:
            raise BenchError(
                f"Refusing to drop database {name!r}: make bench drops and recreates its databases, so their "
                "names must contain 'bench' (e.g. DATABASE_URL=postgres://postgres@127.0.0.1:5432/loyalty_bench)."
            )
    with _maintenance_connection(url) as connection:
        for name in names:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            connection.execute(f'CREATE DATABASE "{name}"')
        return connection.execute("SHOW server_version").fetchone()[0]


def port_is_free(port: int) -> bool:
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def server_environment(database_url: str, redis_url: str = "") -> dict[str, str]:
    """Production settings, on plain HTTP over loopback, with the rate limits lifted: the
    benchmark sends one credential's requests far faster than the limits allow. With Redis as
    the cache, as in production: the workers keep their accounts' configuration in memory
    (loyalty.tenancy.cache), which needs versions every worker sees."""
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "settings.production",
        "SECRET_KEY": secrets.token_urlsafe(48),
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DATABASE_URL": database_url,
        "SECURE_SSL_REDIRECT": "0",
        "THROTTLE_VOUCHER_VALIDATE": "10000000/min",
        "THROTTLE_AUTH_TOKEN": "10000/min",
        "LOG_LEVEL": "WARNING",
        "PYTHONUNBUFFERED": "1",
        **({"REDIS_URL": redis_url} if redis_url else {}),
    }


def manage(database_url: str, *arguments: str) -> str:
    completed = subprocess.run(
        [sys.executable, "manage.py", *arguments],
        cwd=ROOT,
        env=server_environment(database_url),
        stdout=subprocess.PIPE,
        stderr=None,
        text=True,
        check=False,
    )
    if completed.returncode != 0:
        raise BenchError(f"manage.py {' '.join(arguments)} failed (exit {completed.returncode}).")
    return completed.stdout


def redis_url_numbered(base: str, number: int) -> str:
    return urlsplit(base)._replace(path=f"/{number}").geturl()


def flush_redis(url: str) -> None:
    """Empty the benchmark's Redis database: nothing of an earlier run is taken for current."""
    try:
        redis.Redis.from_url(url, socket_connect_timeout=3).flushdb()
    except redis.RedisError as error:
        raise BenchError(
            f"make bench needs Redis (the production cache), and none answers at {url}: start it, or "
            f"set BENCH_REDIS_URL.\n  ({error})"
        ) from None


@dataclass
class Server:
    name: str
    database_url: str
    port: int
    redis_url: str = ""
    process: subprocess.Popen | None = None
    log: Path | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, config: Config) -> None:
        if not port_is_free(self.port):
            raise BenchError(f"Port {self.port} is taken: set BENCH_PORT to a free port.")
        RESULTS.mkdir(parents=True, exist_ok=True)
        self.log = RESULTS / f"gunicorn-{self.name}.log"
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "loyalty.wsgi",
                f"--bind=127.0.0.1:{self.port}",
                f"--workers={config.workers}",
                f"--threads={config.threads}",
                "--worker-class=gthread",
                "--timeout=60",
                "--log-level=warning",
                f"--error-logfile={self.log}",
            ],
            cwd=ROOT,
            env=server_environment(self.database_url, self.redis_url),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    def wait_ready(self, seconds: float = 30) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise BenchError(f"gunicorn ({self.name}) exited at start; see {self.log}.")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    return
            except OSError:
                time.sleep(0.2)
        raise BenchError(f"gunicorn ({self.name}) did not listen on port {self.port} within {seconds} s.")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

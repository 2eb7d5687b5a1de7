"""Schemathesis against the live API: every operation of both dialects, authenticated.

`make fuzz` (or `python scripts/fuzz.py`) recreates a dedicated database, migrates it,
creates a merchant, serves the application under gunicorn with the production settings
and `DEBUG` on, on 127.0.0.1, registers a little data through the API itself (customers,
products, promotions, a category, rewards, sales, a voucher, a balance redemption, a rule) so that
path parameters can name real objects, then runs a pinned Schemathesis over `/api/schema/`
with the bearer token and the store token: its coverage phase (every boundary and
negative value the schema implies), its fuzzing phase, the schema's examples and stateful
sequences, all from one fixed seed. A response that is a 5xx, breaks its schema, has an
undocumented status code or content type fails the run. The server is stopped whatever
happens.

`DEBUG` is on because Django's own error pages are HTML only then: with it off, an
`/api/` path that reaches no API view is rescued by the JSON error handlers and the
content-type check cannot see that it fell through. Path parameters also draw from
identifiers broken by a newline, a NUL or another control character, so that every
operation meets those bytes whatever else the generator draws.

Environment (all optional):

| variable | default |
| --- | --- |
| `FUZZ_DATABASE_URL` | `postgres://postgres@127.0.0.1:5432/loyalty_fuzz` (dropped and recreated) |
| `FUZZ_PORT` | `8222`; another free port is taken when it is busy |
| `FUZZ_MAX_EXAMPLES` | `25` test cases per operation and phase |
| `FUZZ_SEED` | `20261122`, so that every run sends the same cases; another seed explores further |
| `FUZZ_PHASES` | `examples,coverage,fuzzing,stateful` |
| `FUZZ_WORKERS` | `1` Schemathesis worker (gunicorn always runs 2) |
| `FUZZ_OPERATIONS` | every operation; else a regular expression of the paths to run (e.g. `/returns$`) |
"""

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
from fuzz_seed import Api, fail, seed

ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"
DEFAULT_PORT = 8222
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/loyalty_fuzz"
DEFAULT_SEED = "20261122"
DEFAULT_PHASES = "examples,coverage,fuzzing,stateful"
# One worker sends the cases in the same order every run, so that the seed replays a run
# whole; and Python 3.11's parser is not thread-safe (CPython gh-106905), which concurrent
# workers reach through Hypothesis and abort with "AST constructor recursion depth mismatch".
DEFAULT_WORKERS = "1"
SERVER_WORKERS = 2
# Identifiers no route accepts, in every path parameter's dictionary: a newline alone and
# after digits (a regular expression's `$` matches before a final newline), NUL, other
# control characters and DEL. Schemathesis percent-encodes them on the wire and, as they
# break the parameters' patterns, sends them in negative cases only (its "Dictionary
# mismatch" warning says so: that is the intent).
BROKEN_IDENTIFIERS = ("\n", "1\n", "\n1", "\x00", "1\x00", "\r\n", "\x1b", "\x7f")
CHECKS = (
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_headers_conformance",
    "response_schema_conformance",
)


def say(message: str) -> None:
    sys.stdout.write(f"== {message}\n")
    sys.stdout.flush()


# --- database ----------------------------------------------------------------------------


def recreate_database(url: str) -> None:
    """Drop and create the database the URL names (PostgreSQL), or remove the SQLite file."""
    parts = urlsplit(url)
    if parts.scheme.startswith("sqlite"):
        path = Path(parts.path[1:] if parts.path.startswith("//") else parts.path)
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        return
    name = parts.path.lstrip("/")
    if not name.replace("_", "").isalnum():
        fail(f"refusing to recreate a database named {name!r}")
    maintenance = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(maintenance, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{name}"')


# --- the application -------------------------------------------------------------------


def free_port(preferred: int) -> int:
    for port in (preferred, 0):
        with socket.socket() as probe:
            try:
                probe.bind((HOST, port))
            except OSError:
                continue
            return probe.getsockname()[1]
    fail("no free port on 127.0.0.1")
    return 0


SETTINGS_MODULE = "fuzz_settings"
SETTINGS_SOURCE = '''"""The production settings with DEBUG on: Django's HTML error pages become visible."""

from settings.production import *  # noqa: F403

DEBUG = True
'''


def application_environment(database_url: str, work_dir: Path) -> dict[str, str]:
    """The production settings with `DEBUG` on, served over plain HTTP on the loopback address."""
    (work_dir / f"{SETTINGS_MODULE}.py").write_text(SETTINGS_SOURCE)
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": SETTINGS_MODULE,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(work_dir), os.environ.get("PYTHONPATH")])),
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": HOST,
        "DATABASE_URL": database_url,
        "SECURE_SSL_REDIRECT": "0",
        "STATIC_ROOT": str(work_dir / "static"),
        "LOG_LEVEL": "WARNING",
        "PYTHONUNBUFFERED": "1",
    }


def manage(*args: str, env: dict[str, str]) -> str:
    result = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        fail(f"manage.py {' '.join(args)} failed:\n{result.stdout}{result.stderr}")
    return result.stdout


def start_server(port: int, workers: int, env: dict[str, str], log_path: Path) -> subprocess.Popen:
    log = log_path.open("w")
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "loyalty.wsgi",
            "--bind",
            f"{HOST}:{port}",
            "--workers",
            str(workers),
            "--timeout",
            "60",
            # Gunicorn refuses request lines over 4094 bytes with its own HTML 414; lifted here so
            # that every generated request, however long its query, reaches the application.
            "--limit-request-line",
            "0",
            "--error-logfile",
            "-",
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def stop_server(server: subprocess.Popen) -> None:
    if server.poll() is not None:
        return
    os.killpg(server.pid, signal.SIGTERM)
    try:
        server.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(server.pid, signal.SIGKILL)
        server.wait(timeout=5)


# --- Schemathesis ----------------------------------------------------------------------


def toml_value(value) -> str:
    # JSON escapes are TOML escapes, except that TOML also wants DEL escaped.
    return json.dumps(value).replace("\x7f", "\\u007f")


def toml_list(values: list) -> str:
    return "[" + ", ".join(toml_value(value) for value in values) + "]"


def schemathesis_config(known: dict[str, list]) -> str:
    """Path parameters and the body fields that name objects take a seeded value half of the
    time, so that requests reach the logic behind the lookups; the rest are generated."""
    dictionaries = {
        **known,
        **{f"{name}_in_paths": [*values, *BROKEN_IDENTIFIERS] for name, values in known.items()},
        "numbers": [int(pk) for pk in known["ids"]],
    }
    bindings = {
        "path.id": "ids_in_paths",
        "path.barcode": "barcodes_in_paths",
        "path.document": "documents_in_paths",
        "path.code": "codes_in_paths",
        "query.cpf": "documents",
        "body.cpf": "documents",
        "body.consumer": "documents",
        "body.barcode": "barcodes",
        "body.items[*].barcode": "barcodes",
        "body.customer_id": "numbers",
        "body.reward_id": "numbers",
        "query.store": "stores",
    }
    return "\n".join(
        [
            "[generation]",
            "with-security-parameters = false",
            "",
            *(
                f"[dictionaries.{name}]\nvalues = {toml_list(values)}\n"
                for name, values in dictionaries.items()
            ),
            "[parameters]",
            *(f'"{key}" = {{ dictionary = "{name}", probability = 0.5 }}' for key, name in bindings.items()),
            "",
        ]
    )


def run_schemathesis(base_url: str, api: Api, config_path: Path, work_dir: Path) -> int:
    # A part of the API, e.g. the operations of one change (the seed still registers everything).
    operations = os.environ.get("FUZZ_OPERATIONS")
    only = ["--include-path-regex", operations] if operations else []
    command = [
        sys.executable,
        "-m",
        "schemathesis.cli",
        "--config-file",
        str(config_path),
        "run",
        f"{base_url}/api/schema/",
        "--phases",
        os.environ.get("FUZZ_PHASES", DEFAULT_PHASES),
        "--seed",
        os.environ.get("FUZZ_SEED", DEFAULT_SEED),
        "--checks",
        ",".join(CHECKS),
        "--max-examples",
        os.environ.get("FUZZ_MAX_EXAMPLES", "25"),
        "--workers",
        os.environ.get("FUZZ_WORKERS", DEFAULT_WORKERS),
        "--request-timeout",
        "30",
        *only,
        "--report",
        "junit",
        "--report-junit-path",
        str(work_dir / "junit.xml"),
        *(f"--header={name}: {value}" for name, value in api.headers.items()),
    ]
    return subprocess.run(command, cwd=work_dir, check=False).returncode


def main() -> int:
    database_url = os.environ.get("FUZZ_DATABASE_URL", DEFAULT_DATABASE_URL)
    port = free_port(int(os.environ.get("FUZZ_PORT", DEFAULT_PORT)))
    base_url = f"http://{HOST}:{port}"
    work_dir = Path(tempfile.mkdtemp(prefix="loyalty-fuzz-"))
    env = application_environment(database_url, work_dir)
    log_path = work_dir / "server.log"

    say(f"database {urlsplit(database_url).path.lstrip('/')} (recreated), migrations, a merchant")
    recreate_database(database_url)
    manage("migrate", "--noinput", env=env)
    merchant = json.loads(
        manage(
            "create_merchant",
            "Mercado Fuzz",
            "--store",
            "Loja Fuzz",
            "--cashback-percent",
            "5",
            "--points-per-currency",
            "1",
            "--json",
            env=env,
        )
    )

    say(f"serving on {base_url} (gunicorn, {SERVER_WORKERS} workers, settings.production with DEBUG on)")
    server = start_server(port, SERVER_WORKERS, env, log_path)
    try:
        api = Api(base_url)
        api.wait_until_healthy(server, log_path)
        known = seed(api, merchant)
        # The `store` filters (sales, the liability report) then name the merchant's store half the time.
        known["stores"] = [merchant["store_id"]]
        say("seeded: " + ", ".join(f"{len(values)} {name}" for name, values in known.items()))
        config_path = work_dir / "schemathesis.toml"
        config_path.write_text(schemathesis_config(known))
        say("schemathesis")
        status = run_schemathesis(base_url, api, config_path, work_dir)
    finally:
        stop_server(server)
    errors = [line for line in log_path.read_text().splitlines() if " ERROR " in line or "Traceback" in line]
    if errors:
        say(f"the server logged {len(errors)} error line(s); the log is {log_path}")
        for line in errors[:20]:
            sys.stdout.write(f"   {line}\n")
        status = status or 1
    if status == 0:
        shutil.rmtree(work_dir, ignore_errors=True)
        say("fuzz passed")
    else:
        say(f"fuzz FAILED; server log and JUnit report kept in {work_dir}")
    return status


if __name__ == "__main__":
    sys.exit(main())

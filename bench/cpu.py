"""Server CPU per request: the CPU time the gunicorn and PostgreSQL processes spent on a run.

A process's CPU time is its user + system time from `/proc/<pid>/stat` (`utime` + `stime`,
in clock ticks of `SC_CLK_TCK`), plus what it collected from the children it reaped
(`cutime` + `cstime`): a PostgreSQL backend or a gunicorn worker that ends during a run
still counts, through its parent. A group's CPU over a run is its total at the end minus its
total at the start, the group's processes found afresh at each reading:

- gunicorn: the master and every process below it;
- PostgreSQL: every process on the machine named `postgres` (its command, or its command
  line, which PostgreSQL rewrites to `postgres: ...`), whatever user runs it: `/proc/<pid>/stat`
  is readable by all. Every database of the server counts; the others are idle.

The load generator is the process reading them (`bench.run`); its own CPU over the same run
(`getrusage`) is read beside, since it shares the machine's cores with the server.
"""

import os
import resource
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

PROC = Path("/proc")
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
POSTGRES_NAMES = frozenset({"postgres", "postmaster"})


@dataclass(frozen=True)
class ProcessCpu:
    """One process as `/proc/<pid>/stat` describes it; CPU time in seconds."""

    pid: int
    name: str
    parent: int
    own: float  # utime + stime
    reaped: float  # cutime + cstime: its children that ended

    @property
    def total(self) -> float:
        return self.own + self.reaped


def process_cpu(pid: int, proc: Path = PROC) -> ProcessCpu | None:
    """The process's CPU time, or None if it is gone."""
    try:
        text = (proc / str(pid) / "stat").read_text()
    except OSError:
        return None
    # The name sits in parentheses and may itself hold spaces or parentheses.
    name = text[text.index("(") + 1 : text.rindex(")")]
    fields = text[text.rindex(")") + 2 :].split()
    # fields[0] is field 3 of proc(5), the state: ppid is field 4, utime to cstime 14 to 17.
    utime, stime, cutime, cstime = (int(value) for value in fields[11:15])
    return ProcessCpu(
        pid=pid,
        name=name,
        parent=int(fields[1]),
        own=(utime + stime) / CLOCK_TICKS,
        reaped=(cutime + cstime) / CLOCK_TICKS,
    )


def cpu_seconds(pids: Iterable[int], proc: Path = PROC) -> float:
    """The CPU time of these processes, their reaped children's included; those gone count 0."""
    return sum(stat.total for pid in pids if (stat := process_cpu(pid, proc)) is not None)


def all_processes(proc: Path = PROC) -> list[ProcessCpu]:
    pids = (int(entry.name) for entry in proc.iterdir() if entry.name.isdigit())
    return [stat for pid in pids if (stat := process_cpu(pid, proc)) is not None]


def descendants(root: int, processes: Iterable[ProcessCpu]) -> set[int]:
    """`root` and every process below it."""
    children: dict[int, list[int]] = {}
    for stat in processes:
        children.setdefault(stat.parent, []).append(stat.pid)
    found, pending = {root}, [root]
    while pending:
        for child in children.get(pending.pop(), ()):
            if child not in found:
                found.add(child)
                pending.append(child)
    return found


def _command_line(pid: int, proc: Path) -> str:
    try:
        return (proc / str(pid) / "cmdline").read_bytes().split(b"\0", 1)[0].decode(errors="replace")
    except OSError:
        return ""


def is_postgres(stat: ProcessCpu, proc: Path = PROC) -> bool:
    if stat.name in POSTGRES_NAMES:
        return True
    first = _command_line(stat.pid, proc)
    return first.startswith("postgres:") or os.path.basename(first) in POSTGRES_NAMES


def postgres_pids(processes: Iterable[ProcessCpu] | None = None, proc: Path = PROC) -> set[int]:
    """Every PostgreSQL process on the machine (none if the server runs elsewhere)."""
    if processes is None:
        processes = all_processes(proc)
    return {stat.pid for stat in processes if is_postgres(stat, proc)}


def load_generator_seconds() -> float:
    """This process's own CPU time (user + system)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


@dataclass(frozen=True)
class Reading:
    """CPU time so far, in seconds: gunicorn's, PostgreSQL's (None: no PostgreSQL process
    here) and the load generator's, at `at` (monotonic)."""

    gunicorn: float
    postgres: float | None
    load_generator: float
    at: float


def read(gunicorn_master: int, proc: Path = PROC) -> Reading:
    processes = all_processes(proc)
    by_pid = {stat.pid: stat for stat in processes}
    postgres = postgres_pids(processes, proc)
    return Reading(
        gunicorn=sum(by_pid[pid].total for pid in descendants(gunicorn_master, processes) if pid in by_pid),
        postgres=sum(by_pid[pid].total for pid in postgres) if postgres else None,
        load_generator=load_generator_seconds(),
        at=time.monotonic(),
    )


@dataclass(frozen=True)
class CpuUse:
    """CPU seconds spent over one run, and the requests answered in it."""

    requests: int
    seconds: float
    gunicorn: float
    postgres: float | None
    load_generator: float

    @classmethod
    def between(cls, start: Reading, end: Reading, requests: int) -> "CpuUse":
        postgres = None
        if start.postgres is not None and end.postgres is not None:
            postgres = end.postgres - start.postgres
        return cls(
            requests=requests,
            seconds=end.at - start.at,
            gunicorn=end.gunicorn - start.gunicorn,
            postgres=postgres,
            load_generator=end.load_generator - start.load_generator,
        )

    def _per_request_ms(self, seconds: float | None) -> float:
        if seconds is None or not self.requests:
            return float("nan")
        return seconds * 1000 / self.requests

    @property
    def gunicorn_ms(self) -> float:
        return self._per_request_ms(self.gunicorn)

    @property
    def postgres_ms(self) -> float:
        return self._per_request_ms(self.postgres)

    @property
    def server_ms(self) -> float:
        """gunicorn + PostgreSQL (NaN when PostgreSQL was not read)."""
        return self.gunicorn_ms + self.postgres_ms

    @property
    def load_generator_ms(self) -> float:
        return self._per_request_ms(self.load_generator)

    def per_request_ms(self) -> dict[str, float | None]:
        """The figures of the table, for `latest.json` (None for what was not measured)."""
        figures = {
            "gunicorn": self.gunicorn_ms,
            "postgres": self.postgres_ms,
            "server": self.server_ms,
            "load_generator": self.load_generator_ms,
        }
        return {name: None if value != value else round(value, 3) for name, value in figures.items()}

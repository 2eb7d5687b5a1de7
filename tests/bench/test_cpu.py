"""Server CPU per request: CPU time read from /proc, the process groups, the arithmetic."""

import json
import math
import os
import resource
import subprocess
import sys
import time

import pytest

from bench import cpu
from bench.cpu import CpuUse, Reading

TICKS = cpu.CLOCK_TICKS


def own_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def burn(seconds: float) -> None:
    """Spend `seconds` of CPU in this process."""
    until = own_cpu() + seconds
    while own_cpu() < until:
        sum(range(10_000))


def test_the_cpu_this_process_burns_is_read_from_proc():
    before_proc, before_rusage = cpu.cpu_seconds([os.getpid()]), own_cpu()
    burn(0.3)
    after_proc, after_rusage = cpu.cpu_seconds([os.getpid()]), own_cpu()

    # /proc counts in clock ticks: each reading is at most a tick short.
    assert after_proc - before_proc == pytest.approx(after_rusage - before_rusage, abs=3 / TICKS)
    assert after_proc - before_proc >= 0.25


def test_a_process_that_is_gone_counts_nothing():
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait(timeout=30)

    assert cpu.process_cpu(child.pid) is None
    assert cpu.cpu_seconds([child.pid]) == 0


def test_a_child_is_below_its_parent_and_its_cpu_reaches_the_parent_once_it_ends():
    burn_child = "import time\nend = time.process_time() + 0.3\nwhile time.process_time() < end: pass\n"
    before = cpu.cpu_seconds([os.getpid()])
    child = subprocess.Popen([sys.executable, "-c", burn_child])
    try:
        assert child.pid in cpu.descendants(os.getpid(), cpu.all_processes())
        assert os.getppid() not in cpu.descendants(os.getpid(), cpu.all_processes())
    finally:
        child.wait(timeout=30)

    # The child's 0.3 s now sit in this process's cutime + cstime.
    assert cpu.cpu_seconds([os.getpid()]) - before >= 0.25


def test_every_postgres_process_found_on_this_machine_is_one():
    found = cpu.postgres_pids()
    if not found:
        pytest.skip("no PostgreSQL process runs on this machine")

    assert os.getpid() not in found
    for pid in found:
        try:
            name = (cpu.PROC / str(pid) / "comm").read_text().strip()
            first = (cpu.PROC / str(pid) / "cmdline").read_bytes().split(b"\0")[0].decode()
        except FileNotFoundError:
            continue  # ended since
        assert name == "postgres" or first.startswith("postgres") or first.endswith("/postgres"), (pid, name)
    # The postmaster, whose parent is not PostgreSQL, heads them.
    parents = {stat.pid: stat.parent for stat in cpu.all_processes() if stat.pid in found}
    assert any(parent not in found for parent in parents.values())


# A /proc of our own: stat lines (fields 1 to 22 of proc(5)) and command lines.


def stat_line(
    pid: int, name: str, parent: int, utime: int, stime: int, cutime: int = 0, cstime: int = 0
) -> str:
    return (
        f"{pid} ({name}) S {parent} {pid} {pid} 0 -1 4194304 10 20 0 0 "
        f"{utime} {stime} {cutime} {cstime} 20 0 1 0 5005\n"
    )


def add_process(proc, pid, name, parent, utime, stime=0, cutime=0, cstime=0, cmdline=None):
    directory = proc / str(pid)
    directory.mkdir(exist_ok=True)
    (directory / "stat").write_text(stat_line(pid, name, parent, utime, stime, cutime, cstime))
    (directory / "cmdline").write_bytes(b"\0".join(part.encode() for part in (cmdline or [name])) + b"\0")


@pytest.fixture
def proc(tmp_path):
    add_process(tmp_path, 1, "systemd", 0, 50)
    add_process(tmp_path, 100, "python", 1, 10, 5, cmdline=["python", "-m", "gunicorn", "loyalty.wsgi"])
    add_process(tmp_path, 101, "python", 100, 200, 40)
    add_process(tmp_path, 102, "python", 100, 300, 60)
    add_process(tmp_path, 103, "python", 102, 7, 3)
    add_process(tmp_path, 200, "python", 1, 999, 999, cmdline=["python", "-m", "bench.run"])
    add_process(
        tmp_path,
        300,
        "postgres",
        1,
        20,
        10,
        cmdline=["/usr/lib/postgresql/15/bin/postgres", "-D", "/var/lib/postgresql/15/main"],
    )
    add_process(tmp_path, 301, "postgres", 300, 100, 20, cmdline=["postgres: 15/main: checkpointer"])
    add_process(
        tmp_path, 302, "postgres", 300, 400, 100, cmdline=["postgres: 15/main: postgres loyalty_bench"]
    )
    # Found by its command line, whatever its command's name.
    add_process(tmp_path, 303, "bgworker x", 300, 30, 0, cmdline=["postgres: 15/main: logical replication"])
    # Not PostgreSQL, though its arguments say postgres, and its name has spaces and a parenthesis.
    add_process(tmp_path, 400, "psql (x) y", 1, 5, 5, cmdline=["psql", "-U", "postgres"])
    add_process(
        tmp_path, 401, "postgres_export", 1, 5, 5, cmdline=["postgres_exporter", "--web.telemetry-path=/m"]
    )
    (tmp_path / "self").mkdir()
    return tmp_path


def test_a_stat_line_is_read_past_a_name_with_spaces_and_parentheses(proc):
    stat = cpu.process_cpu(400, proc)

    assert stat == cpu.ProcessCpu(pid=400, name="psql (x) y", parent=1, own=10 / TICKS, reaped=0)


def test_own_and_reaped_cpu_come_from_utime_stime_cutime_and_cstime(proc):
    add_process(proc, 500, "postgres", 1, utime=3, stime=4, cutime=50, cstime=60)

    stat = cpu.process_cpu(500, proc)

    assert (stat.own, stat.reaped, stat.total) == pytest.approx((7 / TICKS, 110 / TICKS, 117 / TICKS))


def test_postgres_processes_are_found_by_name_or_command_line_and_nothing_else(proc):
    assert cpu.postgres_pids(proc=proc) == {300, 301, 302, 303}


def test_gunicorn_is_its_master_and_every_process_below_it(proc):
    assert cpu.descendants(100, cpu.all_processes(proc)) == {100, 101, 102, 103}


def test_a_reading_sums_each_group(proc):
    reading = cpu.read(100, proc)

    assert reading.gunicorn == pytest.approx((15 + 240 + 360 + 10) / TICKS)
    assert reading.postgres == pytest.approx((30 + 120 + 500 + 30) / TICKS)


def test_a_run_counts_processes_that_ended_through_their_parent_and_those_that_began(proc):
    before = cpu.read(100, proc)
    # During the run: worker 102 (and its child) spent 100 more ticks, ended, and was reaped;
    # a new backend began and spent 40; the backend 302 spent 200 more; the checkpointer none.
    (proc / "102" / "stat").unlink()
    (proc / "103" / "stat").unlink()
    add_process(proc, 100, "python", 1, 10, 5, cutime=360 + 10 + 100)
    add_process(proc, 302, "postgres", 300, 500, 200)
    add_process(proc, 304, "postgres", 300, 30, 10)
    after = cpu.read(100, proc)

    use = CpuUse.between(before, after, requests=50)

    assert use.gunicorn == pytest.approx(100 / TICKS)
    assert use.postgres == pytest.approx((200 + 40) / TICKS)
    assert use.gunicorn_ms == pytest.approx(100 / TICKS * 1000 / 50)


def test_no_postgres_process_reads_as_none(tmp_path):
    add_process(tmp_path, 100, "python", 1, 10, 5)

    assert cpu.read(100, tmp_path).postgres is None


def reading(gunicorn, postgres, load_generator, at):
    return Reading(gunicorn=gunicorn, postgres=postgres, load_generator=load_generator, at=at)


def test_cpu_per_request_is_the_run_s_cpu_over_the_requests_answered():
    use = CpuUse.between(reading(10.0, 50.0, 3.0, 100.0), reading(12.0, 51.0, 3.5, 106.0), requests=500)

    assert (use.requests, use.seconds) == (500, 6.0)
    assert (use.gunicorn_ms, use.postgres_ms, use.server_ms, use.load_generator_ms) == pytest.approx(
        (4.0, 2.0, 6.0, 1.0)
    )
    assert use.per_request_ms() == {"gunicorn": 4.0, "postgres": 2.0, "server": 6.0, "load_generator": 1.0}


def test_without_postgres_or_answers_the_figures_are_not_numbers():
    without_postgres = CpuUse.between(reading(1.0, None, 0.0, 0.0), reading(2.0, 5.0, 0.5, 6.0), requests=100)
    without_answers = CpuUse.between(reading(1.0, 1.0, 0.0, 0.0), reading(2.0, 2.0, 0.5, 6.0), requests=0)

    assert without_postgres.postgres is None
    assert without_postgres.gunicorn_ms == pytest.approx(10.0)
    assert math.isnan(without_postgres.postgres_ms)
    assert math.isnan(without_postgres.server_ms)
    assert without_postgres.per_request_ms()["postgres"] is None
    assert all(value is None for value in without_answers.per_request_ms().values())
    json.dumps(without_postgres.per_request_ms())


def test_the_load_generator_is_this_process():
    before = cpu.load_generator_seconds()
    burn(0.1)
    started = time.monotonic()
    time.sleep(0.1)  # waiting costs no CPU
    assert time.monotonic() - started >= 0.1

    assert cpu.load_generator_seconds() - before == pytest.approx(0.1, abs=0.05)

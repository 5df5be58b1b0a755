"""What the benches run on: PostgreSQL, Redis, gunicorn, a Celery worker, wrk, and CPU accounting.

Every process is started in its own session and stopped with its whole process group
(gunicorn workers, Celery pool children), whatever ends the bench: an error, Ctrl-C, SIGTERM.
Every wait has a deadline.
"""

import json
import os
import resource
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import psycopg
import redis

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
LOG_DIR = ROOT / "bench" / "results" / "logs"
WRK_SCRIPT = Path(__file__).with_name("post_requests.lua")
WRK_THREADS = 2  # one per core: more threads only take CPU from the server under test
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


class BenchError(RuntimeError):
    """The bench could not measure something; the message says what to fix."""


# --- Processes ---------------------------------------------------------------------------


def stop_on_sigterm():
    """Turn SIGTERM into SystemExit so that `finally` blocks stop what the bench started."""
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))


def wait_until(predicate, *, timeout, what, interval=0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if result := predicate():
            return result
        time.sleep(interval)
    raise BenchError(f"timed out after {timeout:.0f}s waiting for {what}")


@contextmanager
def running(name, command, env):
    """Run `command` in its own session, logging to bench/results/logs/NAME.log; stop it on exit."""
    LOG_DIR.mkdir(parents=True, exist_ok=True)
    log_path = LOG_DIR / f"{name}.log"
    with open(log_path, "w") as log:
        process = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        try:
            yield process, log_path
        finally:
            stop(process)


def stop(process, grace=10):
    """SIGTERM the process group, then SIGKILL it if it is still there after `grace` seconds."""
    for sig, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, 5)):
        try:
            os.killpg(process.pid, sig)
            process.wait(timeout=wait)
            return
        except ProcessLookupError:
            return
        except subprocess.TimeoutExpired:
            continue


def _exited(process, log_path):
    if process.poll() is not None:
        raise BenchError(f"{Path(process.args[0]).name} exited with {process.returncode}; see {log_path}")
    return False


@dataclass(frozen=True)
class Server:
    url: str
    process_group: int  # the master and its workers: what the server's CPU is counted over


@contextmanager
def gunicorn(name, env, *, ready_path, workers=2):
    """gunicorn with sync workers on a free port, yielded once `ready_path` answers 200."""
    port = free_port()
    command = [
        str(BIN / "gunicorn"),
        "config.wsgi:application",
        "--workers",
        str(workers),
        "--worker-class",
        "sync",
        "--bind",
        f"127.0.0.1:{port}",
    ]
    with running(name, command, env) as (process, log_path):
        url = f"http://127.0.0.1:{port}"
        wait_until(
            lambda: _answers(url + ready_path) or _exited(process, log_path),
            timeout=30,
            what=f"gunicorn on {url} (log: {log_path})",
        )
        yield Server(url, process.pid)


@contextmanager
def celery_worker(env, *, concurrency=2, name="celery-worker"):
    """A real `celery worker` (prefork), yielded once it reports ready; it logs to
    bench/results/logs/NAME.log."""
    command = [
        str(BIN / "celery"),
        "-A",
        "config",
        "worker",
        "-P",
        "prefork",
        "-c",
        str(concurrency),
        "--without-gossip",
        "--without-mingle",
        "--without-heartbeat",
        "--loglevel",
        "INFO",
    ]
    with running(name, command, env) as (process, log_path):
        wait_until(
            lambda: "ready." in log_path.read_text() or _exited(process, log_path),
            timeout=30,
            what=f"the Celery worker (log: {log_path})",
        )
        yield process


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _answers(url):
    try:
        with urllib.request.urlopen(url, timeout=1) as response:
            return response.status == 200
    except OSError:
        return False


# --- Load ----------------------------------------------------------------------------------


def require_wrk():
    if not shutil.which("wrk"):
        raise BenchError("wrk is not installed: apt-get install -y wrk (or brew install wrk)")


def wrk(url, requests_file, *, seconds, connections, server=None):
    """POST the requests of `requests_file` to `url` for `seconds`; wrk's figures (and CPU use, given
    `server`)."""
    command = [
        "wrk",
        "--threads",
        str(WRK_THREADS),
        "--connections",
        str(connections),
        "--duration",
        f"{seconds}s",
        "--timeout",
        "5s",
        "--script",
        str(WRK_SCRIPT),
        url,
        "--",
        str(requests_file),
        str(WRK_THREADS),
    ]
    before = cpu_snapshot()
    done = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 60, check=False)
    figures = _figures(_wrk_result(done))
    if server:
        after = cpu_snapshot()
        use = cpu_use(before, after, process_group=server.process_group, count=figures["requests"])
        wrk_ms = (after.children_seconds - before.children_seconds) * 1000 / max(figures["requests"], 1)
        figures.update(
            server_cpu_ms_per_request=use.ms_each,
            other_cpu_percent=use.other_percent,
            wrk_cpu_ms_per_request=round(wrk_ms, 3),
        )
    return figures


def _wrk_result(done):
    for line in done.stdout.splitlines():
        if line.startswith("BENCH_RESULT "):
            return json.loads(line.removeprefix("BENCH_RESULT "))
    raise BenchError(
        f"wrk exited with {done.returncode} and no BENCH_RESULT line:\n{done.stdout}{done.stderr}"
    )


def _figures(raw):
    seconds = raw["duration_us"] / 1e6
    errors = {key.removeprefix("errors_"): value for key, value in raw.items() if key.startswith("errors_")}
    return {
        "requests": raw["requests"],
        "seconds": round(seconds, 3),
        "per_second": round(raw["requests"] / seconds, 1),
        "p50_ms": raw["p50_us"] / 1000,
        "p99_ms": raw["p99_us"] / 1000,
        "max_ms": raw["max_us"] / 1000,
        "errors": {key: value for key, value in errors.items() if value},
    }


# --- CPU accounting ----------------------------------------------------------------------------
# On a small shared machine the request rate moves with whatever else runs. Two figures
# make a run readable anyway: the CPU the measured processes spent per request (barely
# moved by other load), and the share of the machine that other processes took meanwhile.

OUR_PROCESSES = ("triage_bench", "redis-server")  # PostgreSQL backends show their database name


@dataclass(frozen=True)
class CpuSnapshot:
    machine_ticks: int  # all cores, busy or idle
    processes: dict  # pid -> (CPU ticks, process group, command line)
    children_seconds: float  # finished children of this process: wrk


def cpu_snapshot():
    return CpuSnapshot(_machine_ticks(), _process_ticks(), _children_cpu_seconds())


@dataclass(frozen=True)
class CpuUse:
    ms_each: float  # CPU the measured process group spent per request (or delivery)
    other_percent: float  # share of the whole machine that other processes took


def cpu_use(before, after, *, process_group, count):
    """What `process_group` and the other processes used between two snapshots, for `count` items of work."""
    spent = {
        pid: after.processes[pid][0] - ticks
        for pid, (ticks, _, _) in before.processes.items()
        if pid in after.processes
    }
    measured = sum(ticks for pid, ticks in spent.items() if after.processes[pid][1] == process_group)
    other = sum(ticks for pid, ticks in spent.items() if _is_other(after.processes[pid], process_group))
    capacity = max(after.machine_ticks - before.machine_ticks, 1)
    return CpuUse(round(measured / CLOCK_TICKS * 1000 / max(count, 1), 3), round(100 * other / capacity, 1))


def _is_other(process, measured_group):
    """Not the measured processes, not the bench nor wrk (its child), not our database backends or Redis."""
    _, group, command = process
    return group not in (measured_group, os.getpgrp()) and not any(
        marker in command for marker in OUR_PROCESSES
    )


def _machine_ticks():
    with open("/proc/stat") as stat:
        return sum(int(field) for field in stat.readline().split()[1:8])


def _process_ticks():
    processes = {}
    for entry in os.scandir("/proc"):
        if entry.name.isdigit() and (read := _read_process(entry.path)):
            processes[int(entry.name)] = read
    return processes


def _read_process(path):
    try:
        stat = Path(path, "stat").read_text()
        command = Path(path, "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:  # it exited while we looked
        return None
    fields = stat.rsplit(")", 1)[1].split()  # after the command name, which may contain spaces
    return int(fields[11]) + int(fields[12]), int(fields[2]), command  # utime + stime, process group


def _children_cpu_seconds():
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


# --- Services ----------------------------------------------------------------------------------


def require_port(host, port, service):
    try:
        socket.create_connection((host, port), timeout=1).close()
    except OSError as exc:
        raise BenchError(f"{service} is not answering on {host}:{port} ({exc})") from None


def create_database_if_missing(database_url):
    """Connect to the `postgres` maintenance database of the same server to create ours."""
    name = psycopg.conninfo.conninfo_to_dict(database_url)["dbname"]
    with psycopg.connect(database_url.rsplit("/", 1)[0] + "/postgres", autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')


def connect(database_url):
    return psycopg.connect(database_url, autocommit=True)


def sql(database_url, query, params=()):
    """Run one statement in autocommit; returns its rows (or [] when it returns none)."""
    with connect(database_url) as conn:
        cursor = conn.execute(query, params)
        return cursor.fetchall() if cursor.description else []


def flush_redis(broker_url):
    redis.Redis.from_url(broker_url, socket_timeout=2).flushdb()


def load_average():
    """The 1, 5 and 15-minute load averages: how shared the machine was while a figure was measured."""
    return [round(load, 2) for load in os.getloadavg()]


def machine_busy_percent(seconds=1.0):
    """How busy the whole machine is, before the bench adds anything."""
    before = _busy_and_total()
    time.sleep(seconds)
    after = _busy_and_total()
    return round(100 * (after[0] - before[0]) / max(after[1] - before[1], 1), 1)


def _busy_and_total():
    with open("/proc/stat") as stat:
        fields = [int(field) for field in stat.readline().split()[1:8]]
    idle = fields[3] + fields[4]  # idle + iowait
    return sum(fields) - idle, sum(fields)


def save_results(bench, results):
    """Write a run's figures to bench/results/<bench>-<time>.json (git ignores the folder)."""
    from datetime import datetime

    directory = ROOT / "bench" / "results"
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{bench}-{datetime.now().strftime('%Y%m%dT%H%M%S')}.json"
    path.write_text(json.dumps(results, indent=2, default=str) + "\n")  # datetimes as ISO text
    return path


def machine(database_url):
    """What the figures were measured on: CPU, cores, system, Python, Django, PostgreSQL."""
    import platform

    import django

    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    postgres = sql(database_url, "SHOW server_version")[0][0].split()[0]
    return {
        "cores": os.cpu_count(),
        "cpu": cpu,
        "system": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "django": django.get_version(),
        "postgresql": postgres,
    }

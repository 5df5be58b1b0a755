"""Real processes for tests: a Celery worker and a web server on the test database."""

import os
import signal
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

from django.conf import settings
from django.db import connection

BIN = Path(sys.executable).parent
ROOT = Path(__file__).resolve().parent.parent


def wait_for(predicate, timeout=20.0, interval=0.05, message="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if result := predicate():
            return result
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {message}")


def database_url_for_tests():
    db = connection.settings_dict
    return f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"


def process_env(**overrides):
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings_test",
        "DATABASE_URL": database_url_for_tests(),
        "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
        "PYTHONUNBUFFERED": "1",
    }
    return {**env, **overrides}


def flush_broker():
    import redis

    redis.Redis.from_url(settings.CELERY_BROKER_URL).flushdb()


@contextmanager
def celery_worker(tmp_path, concurrency=1, **env):
    """A real `celery worker` process (prefork) consuming from the test broker."""
    log = tmp_path / "worker.log"
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
        "-l",
        "INFO",
    ]
    with _running(command, log, process_env(**env)) as process:
        wait_for(lambda: "ready." in log.read_text(), timeout=30, message=f"worker ready ({log})")
        yield process


@contextmanager
def web_server(tmp_path, **env):
    """The portal under `runserver` on a free port, with its own environment (e.g. a dead broker)."""
    port = _free_port()
    command = [str(BIN / "python"), "manage.py", "runserver", "--noreload", f"127.0.0.1:{port}"]
    with _running(command, tmp_path / "web.log", process_env(**env)):
        wait_for(lambda: port_open(port), timeout=30, message="web server listening")
        yield f"http://127.0.0.1:{port}"


def pool_children(process):
    path = Path(f"/proc/{process.pid}/task/{process.pid}/children")
    return [int(pid) for pid in path.read_text().split()]


@contextmanager
def _running(command, log_path, env):
    with open(log_path, "w") as log:
        process = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        try:
            yield process
        finally:
            _stop(process)


def _stop(process):
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def _free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def port_open(port):
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
        return True
    except OSError:
        return False

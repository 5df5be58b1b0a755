"""`make bench`: run every bench in bench/ (each a script with a main()), one after the other.

Each bench runs in its own process (`python -m bench.NAME`), so that one bench's Django
settings, processes and failures stay its own. Their figures go straight to the terminal.
"""

import ast
import signal
import subprocess
import sys
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent
CHILD_CLEANUP_SECONDS = 30  # a bench stops its servers and workers on Ctrl-C; give it that long


def main():
    failed = [name for name in bench_names() if run(name) != 0]
    if failed:
        sys.exit(f"failed: {', '.join(failed)}")


def bench_names():
    """The modules of bench/ that define a top-level main(), this runner excepted."""
    return [path.stem for path in sorted(BENCH_DIR.glob("*.py")) if path.stem != "run" and defines_main(path)]


def defines_main(path):
    tree = ast.parse(path.read_text(), filename=str(path))
    return any(isinstance(node, ast.FunctionDef) and node.name == "main" for node in tree.body)


def run(name):
    print(f"== bench/{name}.py", flush=True)
    process = subprocess.Popen([sys.executable, "-m", f"bench.{name}"], cwd=ROOT)
    signal.signal(signal.SIGTERM, lambda *_: process.terminate())  # the bench stops its servers on SIGTERM
    try:
        return process.wait()
    except KeyboardInterrupt:  # the bench got the same SIGINT: let it clean up, within bounds
        return wait_or_kill(process)


def wait_or_kill(process):
    try:
        process.wait(timeout=CHILD_CLEANUP_SECONDS)
    except subprocess.TimeoutExpired:
        process.kill()
    raise SystemExit(130)


if __name__ == "__main__":
    main()

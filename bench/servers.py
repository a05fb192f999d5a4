"""What the benchmarks share: servers they start (and always stop), their CPU, percentiles.

Every server is started in its own process group, with its log in a file (a pipe nobody reads
fills up and blocks the server), and dies with the benchmark even when the benchmark is killed
with SIGKILL (PR_SET_PDEATHSIG on Linux). `Servers` stops every group it started on exit, on an
exception, on Ctrl-C and on SIGTERM/SIGHUP.
"""
from __future__ import annotations

import ctypes
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def pct(values: list[float], p: float) -> float:
    """The p-th percentile of `values` (seconds), in milliseconds."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))] * 1000


def _die_with_parent() -> None:
    """In the child before exec: SIGTERM when the benchmark dies, however it dies (Linux)."""
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)   # PR_SET_PDEATHSIG
    except OSError:
        pass


def group_cpu_seconds(pgid: int) -> float:
    """User + system CPU of every live process in process group `pgid`, from the kernel's own
    accounting (/proc/<pid>/stat), children that exited not included."""
    total = 0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            fields = Path(f"/proc/{entry}/stat").read_text().rpartition(")")[2].split()
        except OSError:
            continue
        if int(fields[2]) == pgid:            # fields after the name: state, ppid, pgrp, …
            total += int(fields[11]) + int(fields[12])   # utime, stime
    return total / CLOCK_TICKS


class Servers:
    """A context manager that starts servers and stops all of them, whatever happens."""

    def __init__(self, log_dir: Path):
        self.log_dir = log_dir
        self.procs: list[subprocess.Popen] = []
        self._previous: dict[int, object] = {}

    def __enter__(self) -> Servers:
        for sig in (signal.SIGTERM, signal.SIGHUP):
            self._previous[sig] = signal.signal(sig, self._interrupted)
        return self

    def __exit__(self, *exc) -> None:
        self.stop_all()
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)  # type: ignore[arg-type]

    @staticmethod
    def _interrupted(signum, frame) -> None:
        raise SystemExit(128 + signum)   # unwinds through every `finally` and `__exit__`

    def start(self, name: str, argv: list[str], env: dict) -> subprocess.Popen:
        log = open(self.log_dir / f"{name}.log", "ab")
        proc = subprocess.Popen(argv, cwd=ROOT, env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                                start_new_session=True, preexec_fn=_die_with_parent)
        log.close()
        self.procs.append(proc)
        return proc

    def gunicorn(self, name: str, app: str, env: dict, workers: int, threads: int) -> tuple[subprocess.Popen, str]:
        """gunicorn serving `app` on a free port, once it answers /healthz: (process, base url)."""
        port = free_port()
        proc = self.start(name, [sys.executable, "-m", "gunicorn", "-w", str(workers), "--threads", str(threads),
                                 "-b", f"127.0.0.1:{port}", "--log-level", "warning", app], env)
        base = f"http://127.0.0.1:{port}"
        wait_ready(f"{base}/healthz", proc, self.log_dir / f"{name}.log")
        return proc, base

    def stop(self, proc: subprocess.Popen) -> None:
        """SIGTERM to the process group, SIGKILL to whatever is left after 10 s."""
        if proc.poll() is None:
            try:
                os.killpg(proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                pass
        try:
            os.killpg(proc.pid, signal.SIGKILL)   # workers the master left behind
        except (ProcessLookupError, PermissionError):
            pass
        proc.wait()

    def stop_all(self) -> None:
        while self.procs:
            self.stop(self.procs.pop())


def wait_ready(url: str, proc: subprocess.Popen, log: Path, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{url} exited with {proc.returncode}; see {log}:\n{log.read_text()[-2000:]}")
        try:
            if requests.get(url, timeout=1).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{url} did not answer within {seconds:.0f} s; see {log}")


def fresh_database(server_url: str | None, tmp: Path, name: str = "bench"):
    """An empty database for this run: a new one on the PostgreSQL server given, or a SQLite
    file in `tmp`. Returns (url, drop)."""
    if not server_url:
        return f"sqlite:///{tmp / f'{name}.db'}", lambda: None
    from sqlalchemy import create_engine, text
    from sqlalchemy.pool import NullPool
    db = f"lr_{name}_{secrets.token_hex(6)}"
    admin = create_engine(server_url, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{db}"'))

    def drop():
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)'))
        admin.dispose()
    return f"{server_url.rpartition('/')[0]}/{db}", drop

"""Directory sync at a plant's size: N people on both platforms, through the twins over HTTP.

    .venv/bin/python bench/directory_sync.py [--people 300]

Starts the sandbox (demo plant, both twins), fills both twins' directories with `--people`
workers spread over the four workshops' departments (and two 班组 sub-departments each), with the
same mobile on both platforms and every tenth a 班组长, then times: the first sync (everyone
joins), a second one (nothing changes), a sync after 5 % moved and 2 % left, and one contact
event (a WeCom create_user: one user/get, the tag reads, one transaction). Prints ms.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.directory.sync import run_sync  # noqa: E402
from bot.sandbox import start_sandbox  # noqa: E402


def fill(twins, people: int) -> None:
    for name, base in (("wecom", 0), ("dingtalk", 200)):
        d = twins[name].directory
        for ws in (11, 12, 13, 14):
            d.department(base + ws, f"车间{ws}")
            for team in (1, 2):
                d.department(base + ws * 10 + team, f"班组{ws}-{team}", parent=base + ws)
    for i in range(people):
        dept = (11, 12, 13, 14)[i % 4] * 10 + 1 + i % 2
        tags = ["班组长"] if i % 10 == 0 else []
        twins["wecom"].directory.join(f"w{i}", f"工人{i}", [dept], f"139{i:08d}", tags=tags)
        twins["dingtalk"].directory.join(f"dt-w{i}", f"工人{i}", [200 + dept], f"139{i:08d}", tags=tags)


def timed(label: str, fn):
    start = time.perf_counter()
    result = fn()
    print(f"{label:<36} {(time.perf_counter() - start) * 1000:8.0f} ms   {getattr(result, 'summary', lambda: '')()}")
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--people", type=int, default=300)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        sandbox = start_sandbox(port=0, database=str(Path(tmp) / "bench.db"))
        try:
            fill(sandbox.twins, args.people)
            timed(f"first sync ({args.people} × 2 platforms)", lambda: run_sync(sandbox.relay))
            timed("second sync (nothing changed)", lambda: run_sync(sandbox.relay))
            for i in range(0, args.people, 20):
                sandbox.twins["wecom"].directory.move(f"w{i}", [121])
                sandbox.twins["dingtalk"].directory.move(f"dt-w{i}", [321])
            for i in range(1, args.people, 50):
                sandbox.twins["wecom"].directory.leave(f"w{i}")
                sandbox.twins["dingtalk"].directory.leave(f"dt-w{i}")
            timed("sync after 5 % moved, 2 % left", lambda: run_sync(sandbox.relay))
            sandbox.twins["wecom"].directory.join("new1", "新人", [111], "13700000001", tags=["班组长"])
            timed("one WeCom contact event (HTTP)", lambda: sandbox.twins["wecom"].contact_event("create_user", "new1"))
        finally:
            sandbox.stop()


if __name__ == "__main__":
    main()

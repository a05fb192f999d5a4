"""The board's read side, this tree against another commit, side by side on one grown plant.

    .venv/bin/python bench/board_against.py --against origin/main [--orders 10000 --requests 40 --rounds 4]

This machine's speed drifts by a third from one minute to the next, so two runs of bench/board.py
taken apart cannot tell a 20 % change. This grows the sandbox's demo plant once (`--orders` open
orders, as bench/board.py does), checks out `--against` into a temporary git worktree, and then
times the same pages on copies of the same database, alternating between the two trees
`--rounds` times, each in a fresh process (Flask's test client in-process: no HTTP, no twins
running, the outbox not sending; start-up frozen as wsgi.py does). Prints p50/p99 per page and
tree over all rounds. Both trees must read the same schema (the grown database is migrated by
this tree).
"""
from __future__ import annotations

import argparse
import gc
import json
import math
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

PAGES = [("board (all)", "/board?token={token}"),
         ("board (welding)", "/board?token={token}&workshop=welding"),
         ("order page", "/board/orders/SO-1024?token={token}"),
         ("GET /api/workshops/welding/queue", "/api/workshops/welding/queue")]


def grow(database: Path, orders: int) -> None:
    sys.path.insert(0, str(ROOT))
    from bench.board import grow as grow_plant
    from bot.sandbox import start_sandbox
    from storage.db import refresh_statistics
    box = start_sandbox(port=0, database=str(database))
    try:
        time.sleep(1)
        grow_plant(box, orders)
        box.relay.dispatcher.stop()
        refresh_statistics(box.relay.engine)
    finally:
        box.stop()


def time_pages(tree: Path, database: Path, requests: int) -> dict[str, list[float]]:
    """In a child process: the pages of `tree`'s code on `database` (a copy made for this run)."""
    sys.path.insert(0, str(tree))
    from bot.app import build_relay, create_app
    from bot.clock import Clock
    from bot.sandbox import demo_settings, sandbox_start_time
    settings = demo_settings({"app.database_url": f"sqlite:///{database}"})
    relay = build_relay(settings, clock=Clock(settings.app.timezone))
    relay.clock.set_local(sandbox_start_time(relay))
    client = create_app(relay=relay).test_client()
    token, key = settings.api.board_tokens[0], settings.api.keys[0]
    headers = {"Authorization": f"Bearer {key}"}
    for _name, path in PAGES:   # templates compiled, caches warm
        assert client.get(path.format(token=token), headers=headers).status_code == 200, path
    gc.collect()
    gc.freeze()
    out: dict[str, list[float]] = {}
    for name, path in PAGES:
        url, samples = path.format(token=token), out.setdefault(name, [])
        for _ in range(requests):
            began = time.perf_counter()
            client.get(url, headers=headers)
            samples.append((time.perf_counter() - began) * 1000)
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--against", help="a git commit to compare with (default: HEAD)", default="HEAD")
    parser.add_argument("--orders", type=int, default=10_000)
    parser.add_argument("--requests", type=int, default=40, help="per page, tree and round")
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)   # tree, database, requests
    args = parser.parse_args()
    if args.child:
        tree, database, requests = args.child
        print(json.dumps(time_pages(Path(tree), Path(database), int(requests))))
        return 0
    tmp = Path(tempfile.mkdtemp(prefix="linerelay-board-"))
    other = tmp / "other"
    try:
        subprocess.run(["git", "worktree", "add", "--detach", "--quiet", str(other), args.against], cwd=ROOT,
                       check=True)
        grown = tmp / "grown.db"
        began = time.perf_counter()
        grow(grown, args.orders)
        print(f"grew the demo plant by {args.orders} open orders in {time.perf_counter() - began:.0f} s")
        samples: dict[str, dict[str, list[float]]] = {"this tree": {}, args.against: {}}
        for _ in range(args.rounds):
            for label, tree in (("this tree", ROOT), (args.against, other)):
                copy = tmp / "run.db"
                shutil.copy(grown, copy)
                done = subprocess.run([sys.executable, __file__, "--child", str(tree), str(copy), str(args.requests)],
                                      cwd=ROOT, check=True, capture_output=True, text=True)
                for page, times in json.loads(done.stdout.strip().splitlines()[-1]).items():
                    samples[label].setdefault(page, []).extend(times)
        print(f"\n{'page':34s} {'tree':>14s}  p50 / p99 ms  ({args.rounds} rounds × {args.requests}, alternating)")
        for page, _path in PAGES:
            for label in samples:
                times = sorted(samples[label][page])
                p99 = times[min(len(times) - 1, math.ceil(len(times) * 0.99) - 1)]
                print(f"{page:34s} {label[:14]:>14s}  {statistics.median(times):6.1f} / {p99:6.1f}")
    finally:
        subprocess.run(["git", "worktree", "remove", "--force", str(other)], cwd=ROOT, capture_output=True)
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

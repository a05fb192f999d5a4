"""The shift-end burst of bench/load.py at a reduced size: no errors, every report counted once."""
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_reduced_shift_end_burst():
    args = [sys.executable, str(ROOT / "bench" / "load.py"), "--leads", "60", "--seconds", "5"]
    if os.environ.get("LINERELAY_TEST_DATABASE_URL"):
        args += ["--database-url", os.environ["LINERELAY_TEST_DATABASE_URL"]]
    result = subprocess.run(args, capture_output=True, text=True, timeout=300, cwd=ROOT)
    print(result.stdout)
    assert result.returncode == 0, result.stdout + result.stderr[-2000:]
    assert "errors 0" in result.stdout and "counted exactly once: yes (60 stored, 60 sent)" in result.stdout

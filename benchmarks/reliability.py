"""Reliability: the long runs CI leaves out — fuzzing project files with tens of thousands
of cases (``tests/reliability``, marked ``slow``).

Runs ``pytest -m slow tests/reliability`` in a new process: four sources of cases
(mutated real documents, documents generated from the catalog, damaged bytes, arbitrary
bytes), ``--examples`` each (default 5,000).  Every case must end in a one-line error
naming the file or in a valid document that saves, reads back, infers and generates
code that compiles — within 5 s (a hang fails).  CI runs the same property with 300
cases per source.

    python -m benchmarks.reliability [--examples 5000]

``main()`` returns the rows.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import time
from pathlib import Path

QUICK_ARGS = ["--examples", "200"]
REPO = Path(__file__).resolve().parent.parent
SOURCES = 4  # strategies in tests/reliability/test_fuzz_project_files.py


def run(examples: int) -> list[dict]:
    env = dict(os.environ, NNSTUDIO_FUZZ_EXAMPLES=str(examples), NNSTUDIO_RUN_SLOW="1",
               QT_QPA_PLATFORM="offscreen")
    cmd = [sys.executable, "-m", "pytest", "-q", "-m", "slow", "-p", "no:cacheprovider",
           "tests/reliability"]
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, check=False, cwd=REPO, env=env, text=True, capture_output=True)
    seconds = time.perf_counter() - t0
    tail = (proc.stdout + proc.stderr).strip().splitlines()
    summary = next((line for line in reversed(tail) if re.search(r"\d+ (passed|failed)", line)),
                   tail[-1] if tail else "no output")
    print(f"$ {' '.join(cmd[1:])}  (NNSTUDIO_FUZZ_EXAMPLES={examples})")
    print(summary)
    if proc.returncode != 0:
        print("\n".join(tail[-40:]))
    cases = SOURCES * examples
    ok = proc.returncode == 0
    return [{
        "figure": (f"fuzzed project files: {cases:,} cases (4 sources × {examples:,}), each a "
                   "one-line error or a valid document, none over 5 s"),
        "value": cases if ok else 0,
        "shown": (f"all {cases:,} in {seconds:.0f} s" if ok else f"FAILED ({summary})"),
        "target": "all", "ok": ok,
    }]


def main(argv: list[str] | None = None) -> list[dict]:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--examples", type=int, default=5000, help="cases per source")
    args = ap.parse_args(argv if argv is not None else [])
    print("## Reliability: long fuzz run\n")
    rows = run(args.examples)
    return rows


if __name__ == "__main__":
    main(sys.argv[1:])

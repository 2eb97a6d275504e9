"""Start-up benchmark: how long `offboard` takes to answer before it does any work.

An operator types `offboard --help`, or a script calls a command many times a day; each
answer starts a Python interpreter and imports the command line. One run measures, as whole
processes, the median of several starts of: the interpreter doing nothing (the floor), pip
answering `--version` (a Python command line of its size), and `offboard --help`,
`offboard --version` and `offboard runbook run --help`. Prints a Markdown table with each
time and its ratio to the floor.

    python benchmarks/startup.py [--runs 15]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

BIN = Path(sys.executable).parent
COMMANDS = {
    "python -c pass (the floor)": [sys.executable, "-c", "pass"],
    "pip --version (a peer)": [sys.executable, "-m", "pip", "--version"],
    "offboard --help": [str(BIN / "offboard"), "--help"],
    "offboard --version": [str(BIN / "offboard"), "--version"],
    "offboard runbook run --help": [str(BIN / "offboard"), "runbook", "run", "--help"],
}


def median_seconds(command: list[str], runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    runs = parser.parse_args().runs
    measured = {name: median_seconds(command, runs) for name, command in COMMANDS.items()}
    floor = measured["python -c pass (the floor)"]
    print(f"| command | median of {runs} | ratio to the floor |\n| --- | ---: | ---: |")
    for name, seconds in measured.items():
        print(f"| `{name}` | {seconds:.3f} s | {seconds / floor:.1f}x |")


if __name__ == "__main__":
    main()

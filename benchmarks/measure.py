"""What the benchmarks share: one process timed as a whole with its own peak memory, the machine's
load, and the catalog entry of the plain table that the database benchmarks fill."""

from __future__ import annotations

import os
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

# One org's rows of six columns (key, tenant, two texts, a number, a timestamp), as a catalog lists it.
ITEM_TABLE = """      ITEM:
        tenant: ORG_ID
        key: [ID]
        changed: LAST_UPDATE
        columns:
          ID: CHAR(36)
          ORG_ID: VARCHAR(36)
          TITLE: VARCHAR(256)
          DESCRIPTION: VARCHAR(1024)
          ITEM_SIZE: BIGINT
          LAST_UPDATE: TIMESTAMP
"""


@dataclass(frozen=True)
class Measured:
    seconds: float
    peak_mb: float  # that process's own peak RSS
    stdout: str


def measured(command: list[str], env: dict[str, str] | None = None, cwd: str | None = None) -> Measured:
    """Run `command` to its end under GNU time, which reports the peak RSS of that process alone.

    Not wait4's ru_maxrss of a child of this process: Linux carries the parent's high-water mark
    across fork and exec, so a child smaller than this Python process would be reported at its size."""
    with tempfile.NamedTemporaryFile(mode="r") as peak:
        started = time.perf_counter()
        done = subprocess.run(["/usr/bin/time", "-f", "%M", "-o", peak.name, *command], check=False,
                              stdout=subprocess.PIPE, stdin=subprocess.DEVNULL, env=env, cwd=cwd, text=True)
        seconds = time.perf_counter() - started
        if done.returncode != 0:
            raise SystemExit(f"{' '.join(command[:4])} ... failed with status {done.returncode}:\n{done.stdout[-3000:]}")
        return Measured(seconds, int(peak.read().split()[-1]) / 1024, done.stdout)


def load_average() -> str:
    """The 1, 5 and 15 minute load averages, as /proc/loadavg gives them."""
    return " / ".join(f"{value:.1f}" for value in os.getloadavg())


def machine() -> str:
    meminfo = Path("/proc/meminfo").read_text().splitlines()
    memory_kb = next(int(line.split()[1]) for line in meminfo if line.startswith("MemTotal"))
    return f"{os.cpu_count()} cores, {memory_kb / 1024 / 1024:.1f} GiB RAM"

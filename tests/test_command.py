"""The console script: a Ctrl-C that lands while the command line is still loading is one line."""

from __future__ import annotations

import subprocess
import sys

INTERRUPTED_WHILE_LOADING = """
import sys
class Interrupting:  # Ctrl-C arrives while the command line's modules load
    def find_spec(self, name, path=None, target=None):
        if name == "offboard.cli":
            raise KeyboardInterrupt
sys.meta_path.insert(0, Interrupting())
from offboard.command import main
main()
"""


def test_ctrl_c_while_the_command_line_loads_is_one_line_and_exit_130():
    result = subprocess.run([sys.executable, "-c", INTERRUPTED_WHILE_LOADING], capture_output=True, text=True, timeout=60)
    assert (result.returncode, result.stderr) == (130, "offboard: interrupted; run the same command again to go on\n")

"""The one error type a user sees, and how a command ends on any error: a single scrubbed line,
a non-zero exit, no traceback. The exit codes are the CLI's contract with scripts."""

from __future__ import annotations

import os
import signal
import sys
import threading
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from offboard.masking import scrub

DEBUG_VARIABLE = "OFFBOARD_DEBUG"

EXIT_OK = 0  # done: the workflow is complete, `run` stopped after --until, a confirm/revoke/retry succeeded
EXIT_FAILED = 1  # a step failed, or the command was refused
EXIT_USAGE = 2  # the command line itself is wrong (Typer's own)
EXIT_WAITING_PERSON = 3  # `runbook run` stopped at a person's step
EXIT_WAITING_IBM = 4  # `runbook run` stopped at a step waiting on IBM's side
EXIT_INTERRUPTED = 130  # Ctrl-C or SIGTERM


class OffboardError(Exception):
    """A problem with the user's input or environment, explained in one line."""

    exit_code = EXIT_FAILED


class NotProvisioned(OffboardError):
    """The stack has no bucket and key yet (as opposed to a backend that cannot be reached)."""


class Waiting(OffboardError):
    """A machine step cannot run yet: what it needs has not arrived (a delivery IBM's side
    exports into the bucket). The engine journals the step `waiting`, not failed, and `run`
    stops there with its own exit code."""

    exit_code = EXIT_WAITING_IBM


class Interrupted(OffboardError):
    """The operator stopped a command (Ctrl-C, SIGTERM) while a step ran; the step is journaled
    `interrupted` and runs again next time."""

    exit_code = EXIT_INTERRUPTED


@contextmanager
def one_line_on_error(who: str) -> Iterator[None]:
    """A command's failure as one scrubbed line on stderr, `who: problem`, and the error's exit
    code (1 unless it says otherwise). Ctrl-C, and SIGTERM made the same, is one line and exit
    130, whenever it comes (loading the stack as much as moving data). Any other exception than
    an OffboardError is a bug: it is named as unexpected, and its traceback is shown only when
    OFFBOARD_DEBUG=1 (a traceback may quote a URL or a password). A warning is one scrubbed line too."""
    def warn(message: Warning, *_) -> None:  # a library's warning may quote a URL too
        print(f"{who}: warning: {first_line(message)}", file=sys.stderr)

    shown, warnings.showwarning = warnings.showwarning, warn
    interrupts = _Interrupts()
    try:
        with interrupts:
            yield
    except OffboardError as error:
        _exit_with(f"{who}: {error}", error.exit_code)
    except KeyboardInterrupt:
        _exit_with(f"{who}: {INTERRUPTED}", EXIT_INTERRUPTED)
    except SystemExit as exit_:
        if exit_.code == EXIT_INTERRUPTED and interrupts.caught:  # Typer ends a KeyboardInterrupt in a silent exit 130
            _exit_with(f"{who}: {INTERRUPTED}", EXIT_INTERRUPTED)
        raise
    except Exception as error:  # noqa: BLE001 - a bug still ends in one line, unless its traceback is asked for
        if os.environ.get(DEBUG_VARIABLE) == "1":
            raise
        _exit_with(f"{who}: unexpected error: {type(error).__name__}: {first_line(error)} "
                   f"(set {DEBUG_VARIABLE}=1 to see the traceback)", EXIT_FAILED)
    finally:
        warnings.showwarning = shown


INTERRUPTED = "interrupted; run the same command again to go on"


class _Interrupts:
    """While a command runs, Ctrl-C and SIGTERM (a `kill`, a service stop) both raise
    KeyboardInterrupt, so that a running step is journaled `interrupted` either way, and are
    remembered. A signal its caller ignores (nohup) stays ignored; off the main thread nothing changes."""

    def __init__(self) -> None:
        self.caught = False
        self.replaced: dict[int, Any] = {}

    def __enter__(self) -> _Interrupts:
        if threading.current_thread() is threading.main_thread():
            for signum, default in ((signal.SIGINT, signal.default_int_handler), (signal.SIGTERM, signal.SIG_DFL)):
                if signal.getsignal(signum) is default:
                    self.replaced[signum] = signal.signal(signum, self.interrupt)
        return self

    def interrupt(self, *_: Any) -> None:
        self.caught = True
        raise KeyboardInterrupt

    def __exit__(self, *_: Any) -> None:
        for signum, handler in self.replaced.items():
            signal.signal(signum, handler)


def first_line(error: BaseException) -> str:
    """An exception's message as one scrubbed line (its type's name when it has none): a driver
    or a library may quote the URL or the password it was given."""
    return scrub((str(error).strip().splitlines() or [type(error).__name__])[0])


def _exit_with(line: str, code: int) -> None:
    print(scrub(line), file=sys.stderr)
    sys.exit(code)

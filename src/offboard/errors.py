"""The one error type a user sees, and how a command ends on any error: a single scrubbed line,
a non-zero exit, no traceback."""

from __future__ import annotations

import os
import sys
import warnings
from collections.abc import Iterator
from contextlib import contextmanager

from offboard.masking import scrub

DEBUG_VARIABLE = "OFFBOARD_DEBUG"


class OffboardError(Exception):
    """A problem with the user's input or environment, explained in one line."""


class NotProvisioned(OffboardError):
    """The stack has no bucket and key yet (as opposed to a backend that cannot be reached)."""


class Waiting(OffboardError):
    """A machine step cannot run yet: what it needs has not arrived (a delivery IBM's side
    exports into the bucket). The engine journals the step `waiting`, not failed, and `run`
    stops there with its own exit code."""


@contextmanager
def one_line_on_error(who: str) -> Iterator[None]:
    """A command's failure as one scrubbed line on stderr, `who: problem`, and exit 1. Any other
    exception than an OffboardError is a bug: it is named as unexpected, and its traceback is
    shown only when OFFBOARD_DEBUG=1 (a traceback may quote a URL or a password). A warning is
    one scrubbed line too."""
    def warn(message: Warning, *_) -> None:  # a library's warning may quote a URL too
        print(f"{who}: warning: {first_line(message)}", file=sys.stderr)

    shown, warnings.showwarning = warnings.showwarning, warn
    try:
        yield
    except OffboardError as error:
        _exit_with(f"{who}: {error}")
    except Exception as error:  # noqa: BLE001 - a bug still ends in one line, unless its traceback is asked for
        if os.environ.get(DEBUG_VARIABLE) == "1":
            raise
        _exit_with(f"{who}: unexpected error: {type(error).__name__}: {first_line(error)} "
                   f"(set {DEBUG_VARIABLE}=1 to see the traceback)")
    finally:
        warnings.showwarning = shown


def first_line(error: BaseException) -> str:
    """An exception's message as one scrubbed line (its type's name when it has none): a driver
    or a library may quote the URL or the password it was given."""
    return scrub((str(error).strip().splitlines() or [type(error).__name__])[0])


def _exit_with(line: str) -> None:
    print(scrub(line), file=sys.stderr)
    sys.exit(1)

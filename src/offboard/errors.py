"""The one error type a user sees: a single line, a non-zero exit, no traceback."""


class OffboardError(Exception):
    """A problem with the user's input or environment, explained in one line."""


class NotProvisioned(OffboardError):
    """The stack has no bucket and key yet (as opposed to a backend that cannot be reached)."""

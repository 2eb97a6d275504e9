"""The stack's log file, `.offboard/stacks/<stack>/offboard.log` (0600, appended): every machine
step run, however it runs (`runbook run`, `retry`, its module by hand, `--dry-run` too), with its
start, its end, outcome and figures, and its progress milestones, each line timestamped in UTC.
Each line is redacted as it is written (`secrets_of`: the key, the databases' passwords, every
URL's password), so no secret reaches the file whatever a stage or an error says.
"""

from __future__ import annotations

import json
import logging
import os
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

from offboard.customer import load_customer
from offboard.errors import OffboardError, Waiting
from offboard.infra.outputs import StackOutputs
from offboard.project import Project
from offboard.runbook.leaks import Sensitive

LOG_FILE = "offboard.log"


def log_path(project: Project, stack: str) -> Path:
    return project.stack_state_dir(stack) / LOG_FILE


class Redacting(logging.Formatter):
    """`2026-05-04T09:30:00Z message`, the message without the stack's secrets."""

    converter = time.gmtime

    def __init__(self, sensitive: Sensitive) -> None:
        super().__init__("%(asctime)s %(message)s", "%Y-%m-%dT%H:%M:%SZ")
        self.sensitive = sensitive

    def format(self, record: logging.LogRecord) -> str:
        return self.sensitive.redact(super().format(record))


def private_handler(path: Path) -> logging.FileHandler:
    """A handler appending to `path`, made 0600 first: the file may have existed with wider bits."""
    path.parent.mkdir(parents=True, exist_ok=True)
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600))
    os.chmod(path, 0o600)
    return logging.FileHandler(path, encoding="utf-8")


class StepLog:
    def __init__(self, logger: logging.Logger, step: str) -> None:
        self.logger, self.step = logger, step
        self.started = time.monotonic()

    def milestone(self, line: str) -> None:
        self.logger.info(line)

    def ended(self, outcome: str, detail: str = "") -> None:
        self.logger.info(f"{self.step}: {outcome} after {time.monotonic() - self.started:.1f} s" + (f": {detail}" if detail else ""))

    def done(self, figures: dict[str, Any]) -> None:
        self.ended("done", json.dumps(figures, default=str, sort_keys=True))


@contextmanager
def logged_step(project: Project, stack: str, workflow: str, step: str, backend: str | None,
                dry_run: bool) -> Iterator[StepLog]:
    """The step's log while it runs: its start now, its end when the block calls `done` or raises
    (failed, waiting on IBM, interrupted: the exception goes on)."""
    from offboard.runbook.modules import (
        secrets_of,  # it imports the caller, offboard.runbook.rendered
    )

    sensitive = secrets_of(load_customer(project, stack), StackOutputs.load(project.stack_state_dir(stack)))
    handler = private_handler(log_path(project, stack))
    handler.setFormatter(Redacting(sensitive))
    logger = logging.getLogger(f"offboard.stack.{stack}")
    logger.setLevel(logging.INFO)
    logger.propagate = False  # a library's logging set-up must not print the step's lines elsewhere
    logger.addHandler(handler)
    log = StepLog(logger, step)
    try:
        logger.info(f"{step}: started, {workflow} delivery, backend {backend}" + (", dry run" if dry_run else ""))
        yield log
    except Waiting as waiting:
        log.ended("waiting", str(waiting))
        raise
    except Exception as error:
        log.ended("failed", str(error) if isinstance(error, OffboardError) else f"{type(error).__name__}: {error}")
        raise
    except BaseException:
        log.ended("interrupted")
        raise
    finally:
        logger.removeHandler(handler)
        handler.close()

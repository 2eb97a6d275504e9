"""The unmapped users of a target's last fix-up, each open until an acceptance in the stack's
journal names it (`offboard db accept-unmapped`, offboard.fixup.acceptance). Verify fails while
any is open; the texts and the report say what is open, what was accepted, by whom and why.

Acceptances are per target and accumulate: an id once accepted stays accepted through every
later fix-up that still finds it, while an id new in a later fix-up (after a delta) is open.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from offboard.fixup.report import FixupReport, Unmapped, report_path
from offboard.project import Project
from offboard.runbook.journal import Acceptance, Journal

SHOWN_IDS = 3  # a message names this many ids, then counts the rest


@dataclass(frozen=True)
class Decision:
    """One unmapped id of the last fix-up and the latest acceptance naming it (None: open)."""

    user: Unmapped
    acceptance: Acceptance | None


@dataclass(frozen=True)
class FixupFacts:
    """What the last fix-up of a target did to people, and what is still to decide."""

    target: str
    decisions: list[Decision]
    merged: int  # people the directory sync had already made in the target (each once, whatever the tables)
    guests: int  # people whose home is another org

    @property
    def open(self) -> list[str]:
        return [decision.user.id for decision in self.decisions if decision.acceptance is None]

    @property
    def accepted(self) -> list[str]:
        return [decision.user.id for decision in self.decisions if decision.acceptance is not None]

    def reasons(self) -> list[str]:
        """The reasons of the acceptances covering this fix-up's ids, each once, oldest first."""
        return list(dict.fromkeys(decision.acceptance.reason for decision in self.decisions if decision.acceptance))

    def summary(self) -> dict[str, Any]:
        """Counts and reasons, never the ids: what a text to the customer is given."""
        return {"open": len(self.open), "accepted": len(self.accepted), "reasons": self.reasons(),
                "merged": self.merged, "guests": self.guests}


def decide(report: FixupReport, acceptances: list[Acceptance], target: str) -> FixupFacts:
    """The report's unmapped ids, each with the latest of `acceptances` of `target` naming it."""
    covering = {user_id: line for line in acceptances if line.target == target for user_id in line.ids}
    return FixupFacts(target, [Decision(user, covering.get(user.id)) for user in report.unmapped],
                      len({merge.person for merge in report.merged}), len(report.guests))


def last_fixup(project: Project, stack: str, target: str) -> FixupFacts | None:
    """The facts of the target's last fix-up; None before the first and after an import (which voids it)."""
    path = report_path(project.stack_state_dir(stack), target)
    if not path.is_file():
        return None
    return decide(FixupReport.load(path), Journal.of_stack(project, stack).acceptances(), target)


def named(ids: list[str]) -> str:
    """A few ids by name, the rest counted."""
    rest = len(ids) - SHOWN_IDS
    return ", ".join(ids[:SHOWN_IDS]) + (f" and {rest} more" if rest > 0 else "")


def open_refusal(stack: str, target: str, ids: list[str]) -> str:
    """Why verify fails while ids are open, and the two ways on, in one line."""
    count = f"{len(ids)} user id{'s' if len(ids) != 1 else ''}"
    return (f"{count} unmapped in the last fix-up of {target} and not accepted ({named(ids)}): add them to the user "
            "mapping (on the wsadmin route: run its script and the directory sync) and run the fix-up again, or accept "
            f"them with `offboard db accept-unmapped {stack} {target} --ids FILE --reason TEXT --by NAME`")

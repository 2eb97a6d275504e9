"""The plan and status as Rich tables, for a terminal; the CLI prints what these return."""

from __future__ import annotations

from pathlib import PurePath
from typing import Sequence

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from offboard.runbook.outcome import GateView, Plan, StepView

STATUS_STYLES = {"done": "green", "failed": "bold red", "running": "yellow", "interrupted": "bold yellow",
                 "waiting": "cyan", "pending": "dim"}


def steps_table(steps: Sequence[StepView], title: str | None = None) -> Table:
    # Text(), not str: Rich would read "[...]" in a name as markup.
    table = Table("#", "step", "title", "actor", "kind / action", "status",
                  title=Text(title) if title else None, title_justify="left")
    shown: set[str] = set()  # a gate holds every step after its own: name it once, where it sits
    for number, step in enumerate(steps, start=1):
        gates = [gate for gate in step.blocked_by if gate not in shown]
        shown.update(gates)
        table.add_row(str(number), Text(step.id), Text(step.title), Text(step.actor), kind_cell(step), status_cell(step, gates))
    return table


def plan_view(plan: Plan) -> RenderableType:
    """The open gates and the modules run would refuse first, then the steps, then where the modules are."""
    gates = [gate_line(gate) for gate in plan.gates if not gate.satisfied]
    refused = [Text.assemble(("REFUSED ", "bold red"), f"{step.id}: {step.refused}") for step in plan.steps if step.module and step.refused]
    folders = sorted({str(PurePath(step.module).parent) for step in plan.steps if step.module})
    where = [Text(f"modules in {', '.join(folders)}", style="dim")] if folders else []
    return Group(*gates, *refused, steps_table(plan.steps, title=plan.title), *where)


def kind_cell(step: StepView) -> Text:
    """A person's step, or the action of a machine step and the file of the module that runs it."""
    if step.kind == "manual":
        return Text("manual")
    cell = Text(step.action)
    if not step.module:
        cell.append("\nnot rendered yet", style="red")
    elif step.refused:
        cell.append(f"\n{PurePath(step.module).name} (refused)", style="red")
    else:
        cell.append(f"\n{PurePath(step.module).name}", style="dim")
    return cell


def status_cell(step: StepView, gates: list[str]) -> Text:
    cell = Text(step.status, style=STATUS_STYLES.get(step.status, ""))
    if step.confirmed_by:
        cell.append(f" by {step.confirmed_by}")
    if step.ref:
        cell.append(f" ref {step.ref}")
    if step.command:
        cell.append(" by hand", style="yellow")
    if step.reason:  # out of order, outside the runbook: the why, as journaled
        cell.append(f" ({step.reason})", style="yellow")
    if gates:
        cell.append(f" (gate {', '.join(gates)})", style="red")
    return cell


def gate_line(gate: GateView) -> Text:
    line = Text("GATE ", style="bold red")
    line.append(f"{gate.title}: waiting for {', '.join(gate.waiting_for)}")
    return line

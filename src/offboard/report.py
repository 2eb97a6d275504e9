"""The migration report of one stack: a timeline of the runbook's steps as a picture (who,
when, how long), figures per delivery and stage, the verification results, and per target what
its last fix-up did to people: each unmapped id, open or accepted (by whom, why), and the counts
of people merged and of guests. HTML for people, Markdown for tickets and repositories; both
rendered from `runbooks/report/`."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from offboard.customer import Customer
from offboard.db.stages import TARGETS
from offboard.errors import OffboardError
from offboard.fixup.unmapped import last_fixup
from offboard.project import Project
from offboard.runbook.journal import Entry, Journal
from offboard.templates import render

ACTOR_COLOURS = {"customer": "#d9822b", "customer-admin": "#c7a22e", "ch-msp": "#2b7bd9", "hcl-l2": "#7b4fc9",
                 "hcl-support": "#9c5fb5", "ibm": "#3a8f5c"}
ROW_HEIGHT, CHART_WIDTH, LABEL_WIDTH = 18, 640, 260
EQUAL = "equal"


@dataclass(frozen=True)
class Bar:
    step: str
    workflow: str
    actor: str
    kind: str
    start: datetime
    end: datetime
    confirmed_by: str | None
    figures: dict
    module_sha256: str | None  # of the rendered module that ran a machine step

    @property
    def seconds(self) -> float:
        return (self.end - self.start).total_seconds()


def bars(entries: list[Entry]) -> list[Bar]:
    """One bar per finished step: from its first line (started or waiting) to its last (done)."""
    first: dict[str, Entry] = {}
    done: dict[str, Entry] = {}
    for entry in entries:
        first.setdefault(entry.step, entry)
        if entry.status == "done":
            done[entry.step] = entry
    return sorted((Bar(step, e.workflow, e.actor, e.kind, first[step].start or e.end, e.end, e.confirmed_by, e.figures, e.sha256)
                   for step, e in done.items() if e.end), key=lambda bar: bar.start)


def timeline_svg(timeline: list[Bar]) -> str:
    """The steps as horizontal bars on one time axis, coloured by who does them."""
    if not timeline:
        return ""
    origin = timeline[0].start
    span = max((bar.end - origin).total_seconds() for bar in timeline) or 1.0
    scale = CHART_WIDTH / span
    rows = []
    for index, bar in enumerate(timeline):
        y = index * ROW_HEIGHT
        x = LABEL_WIDTH + (bar.start - origin).total_seconds() * scale
        width = max(bar.seconds * scale, 2)
        colour = ACTOR_COLOURS.get(bar.actor, "#888")
        rows.append(f'<text x="0" y="{y + 13}" font-size="11">{bar.step}</text>'
                    f'<rect x="{x:.1f}" y="{y + 3}" width="{width:.1f}" height="{ROW_HEIGHT - 6}" fill="{colour}">'
                    f'<title>{bar.step} ({bar.actor}): {bar.seconds:.1f} s</title></rect>')
    height = len(timeline) * ROW_HEIGHT + 20
    axis = f'<text x="{LABEL_WIDTH}" y="{height - 4}" font-size="10">0 s</text>' \
           f'<text x="{LABEL_WIDTH + CHART_WIDTH - 40}" y="{height - 4}" font-size="10">{span:.0f} s</text>'
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{LABEL_WIDTH + CHART_WIDTH + 10}" height="{height}" '
            f'font-family="sans-serif">{"".join(rows)}{axis}</svg>')


def write_report(project: Project, customer: Customer) -> tuple[Path, Path]:
    """report.html and report.md in the stack's state folder, from its journal and proofs."""
    state = project.stack_state_dir(customer.stack)
    entries = Journal.of_stack(project, customer.stack).entries()
    if not entries:
        raise OffboardError(f"stack {customer.stack} has no journal yet: run its runbook first")
    timeline = bars(entries)
    verifications = {path.stem.removeprefix("verify-"): verdict(json.loads(path.read_text(encoding="utf-8")))
                     for path in sorted(state.glob("verify-*.json"))}
    people = {target: facts for target in TARGETS if (facts := last_fixup(project, customer.stack, target))}
    context = {"customer": customer.model_dump(mode="json"), "bars": timeline, "svg": timeline_svg(timeline),
               "colours": ACTOR_COLOURS, "verifications": verifications, "people": people,
               "machine": [bar for bar in timeline if bar.kind == "automated"]}
    html, markdown = state / "report.html", state / "report.md"
    html.write_text(render(project, "report/report.html.j2", context), encoding="utf-8")
    markdown.write_text(render(project, "report/report.md.j2", context), encoding="utf-8")
    return html, markdown


def verdict(proof: dict[str, Any]) -> str:
    """What a verification proof says: equal, DIFFERENT, or equal rows with unmapped users open."""
    if proof["ok"]:
        return EQUAL
    if proof.get("tables_ok"):
        return f"rows equal, {len(proof['unmapped_open'])} unmapped user ids open"
    return "DIFFERENT"

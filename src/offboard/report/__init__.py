"""The migration report of one stack, for the customer: a summary first (dates, outcome, what
moved, open points), the timeline, the confirmations, failed attempts, verification, people,
teardown's proof, and the per-step figures in an appendix. HTML (inline SVG, nothing fetched)
and Markdown, both rendered from `runbooks/report/` out of the same facts (offboard.report.facts)."""

from __future__ import annotations

from pathlib import Path

from offboard.customer import Customer
from offboard.errors import OffboardError
from offboard.project import Project
from offboard.report import formats
from offboard.report.facts import gather
from offboard.report.model import ReportFacts
from offboard.report.timeline import ACTOR_COLOURS, timeline_svg
from offboard.runbook.journal import Journal
from offboard.templates import render

__all__ = ["ReportFacts", "report_facts", "write_report"]


def report_facts(project: Project, customer: Customer) -> ReportFacts:
    if not Journal.of_stack(project, customer.stack).lines():
        raise OffboardError(f"stack {customer.stack} has no journal yet: run its runbook first")
    return gather(project, customer)


def write_report(project: Project, customer: Customer, facts: ReportFacts | None = None) -> tuple[Path, Path]:
    """report.html and report.md in the stack's state folder."""
    facts = facts or report_facts(project, customer)
    state = project.stack_state_dir(customer.stack)
    context = {"facts": facts, "svg": timeline_svg(facts), "colours": ACTOR_COLOURS, "fmt": formats}
    html, markdown = state / "report.html", state / "report.md"
    html.write_text(render(project, "report/report.html.j2", context), encoding="utf-8")
    markdown.write_text(render(project, "report/report.md.j2", context), encoding="utf-8")
    return html, markdown

"""The report a customer reads: the summary first, a timeline in dates with both deliveries apart,
confirmations, failed attempts, teardown's proof, the figures as tables in an appendix; never a secret."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from pathlib import Path

import pytest

from offboard.customer import load_customer
from offboard.errors import OffboardError
from offboard.report import report_facts, write_report
from offboard.report.timeline import MIN_MARK
from offboard.runbook.journal import Acceptance, Journal
from offboard.runbook.workflow import load_runbook
from tests.conftest import run_cli
from tests.report.support import (
    FAILED_ERROR,
    OUT_OF_ORDER,
    REVOKED,
    START,
    UNMAPPED,
    Clock,
    walk_step,
)
from tests.runbook.support import KEY_ID, SECRET, STACK

SECTIONS = ["Summary", "Timeline", "Confirmations", "Failed attempts and interruptions", "Verification",
            "People in production", "Teardown", "Appendix: figures per machine step"]


def headings(text: str, pattern: str) -> list[str]:
    return [heading for heading in re.findall(pattern, text) if heading in SECTIONS]


def test_the_summary_comes_first_with_dates_outcome_what_moved_and_open_points(six_weeks):
    facts, html, markdown = six_weeks.facts, six_weeks.html, six_weeks.markdown
    assert headings(html, r"<h2>([^<]+)</h2>") == SECTIONS
    assert headings(markdown, r"(?m)^## (.+)$") == SECTIONS
    summary = html[html.index("<h2>Summary</h2>"):html.index("<h2>Timeline</h2>")]
    assert "2026-09-07 09:00" in summary and f"{facts.last:%Y-%m-%d %H:%M}" in summary
    assert facts.last - facts.first > timedelta(weeks=6) and facts.outcome == "complete"
    assert "complete: torn down on" in summary
    assert "2026-10-19 <span class=\"muted\">(recorded by Jane Doe (MSP)" in summary  # the agreed cut-over date
    for reference in ("CS0012345", "CS0067890", "JIRA-4711", "JIRA-4712"):
        assert reference in summary and reference in markdown.split("## Timeline")[0]
    # initial: 12,345 files, 1,250,000 rows, 8.4 GB + 310 MB; delta its own line
    assert "<td>initial</td><td class=\"n\">12,345</td><td class=\"n\">1,250,000</td><td class=\"n\">8.7 GB</td>" in summary
    assert "<td>delta</td><td class=\"n\">321</td><td class=\"n\">4,210</td>" in summary
    for point in ("1 unmapped user id(s) in production open", "1 unmapped user id(s) in production accepted",
                  "customer-verifies-staging confirmed out of order by Max Muster (Alpha)", OUT_OF_ORDER,
                  "close-initial-case revoked by Jane Doe (MSP)", REVOKED, "run outside the runbook"):
        assert point in summary and point in markdown


def test_the_timeline_has_dates_on_its_axis_both_deliveries_apart_and_every_step_visible(six_weeks):
    html = six_weeks.html
    svg = html[html.index("<svg"):html.index("</svg>")]
    ticks = re.findall(r'class="tick"[^>]*>([^<]+)<', svg)
    assert len(ticks) >= 5 and all(re.fullmatch(r"Mon \d\d [A-Z][a-z]{2}", tick) for tick in ticks)  # a week a tick
    assert "UTC, 2026" in svg and not re.search(r">\d+ s<", svg.split('class="section"')[0])  # no seconds on the axis
    assert svg.index("Initial delivery") < svg.index(">select-msp<") < svg.index("Delta delivery") < svg.index(">teardown<")
    # provision works 3 s of six weeks: still a mark of MIN_MARK pixels, with its duration beside it and in its tooltip
    row = svg[svg.index(">provision<"):svg.index(">create-servicenow-user<")]
    width = float(re.search(r'width="([\d.]+)"[^>]*class="work"', row).group(1))
    assert width == MIN_MARK and ">3.0 s<" in row and "worked 3.0 s from 2026-09-10" in row
    waited = svg[svg.index(">create-box-folder<"):svg.index(">confirm-box-invitation<")]
    assert float(re.search(r'width="([\d.]+)"', waited.split("<rect")[1]).group(1)) > 60 and ">4 d 5 h<" in waited
    assert svg.count('class="failed"') == 2  # the failed export and the interrupted import
    assert svg.count('class="revoked"') == 1 and ">agreed cut-over<" in svg
    assert not re.search(r"<script|\b(?:src|href)=|url\(|@import", html)  # nothing runs, nothing is fetched


def test_a_short_migration_in_progress_has_hours_on_its_axis(project):
    journal, clock = Journal.of_stack(project, STACK), Clock(START)
    for step in load_runbook(project, load_customer(project, STACK), None).workflow("initial").steps[:6]:
        walk_step(journal, "initial", step, clock)
    html, markdown = write_report(project, load_customer(project, STACK))
    assert "- outcome: in progress at open-initial-case (MSP opens a support case" in markdown.read_text()
    ticks = re.findall(r'class="tick"[^>]*>([^<]+)<', html.read_text())
    assert ticks[0] == "07 Sep 12:00" and all(re.fullmatch(r"(\d\d [A-Z][a-z]{2} )?\d\d:\d\d", tick) for tick in ticks)


def test_confirmations_show_name_time_note_reference_and_what_bent_the_order(six_weeks):
    facts, html, markdown = six_weeks.facts, six_weeks.html, six_weeks.markdown
    section = html[html.index("<h2>Confirmations</h2>"):html.index("<h2>Failed attempts")]
    assert "MSP opens a support case for the initial data request" in section and "CS0012345" in section
    assert "done for select-msp" in section and "Max Muster (Alpha)" in section
    assert f"out of order: {OUT_OF_ORDER}" in section and f"revoked: {REVOKED}" in section
    assert "| customer-verifies-staging | initial | Max Muster (Alpha) |" in markdown
    assert [c.event for c in facts.confirmations if c.step == "close-initial-case"] == ["confirmed", "revoked", "confirmed"]


def test_failed_attempts_and_interruptions_with_time_and_the_errors_first_line(six_weeks):
    facts, html, markdown = six_weeks.facts, six_weeks.html, six_weeks.markdown
    assert [(a.step, a.status) for a in facts.attempts] == [("export-db", "failed"), ("import-db-staging", "interrupted")]
    first_line = FAILED_ERROR.splitlines()[0]
    assert f"<td>failed</td><td class=\"t\">{facts.attempts[0].at:%Y-%m-%d %H:%M}</td><td>{first_line}</td>" in html
    assert f"| export-db | initial | failed | {facts.attempts[0].at:%Y-%m-%d %H:%M} | {first_line} |" in markdown
    assert "Traceback" not in html + markdown


def test_teardown_shows_its_proof(six_weeks):
    html, markdown = six_weeks.html, six_weeks.markdown
    section = html[html.index("<h2>Teardown</h2>"):html.index("<h2>Appendix")]
    assert "1,874" in section and "bucket offboard-alpha-20011111</th><td class=\"ok\">removed" in section
    assert "refused when tried after removal" in section and "alpha-20011111-20261019T101500Z.tar.gz" in section
    assert "- the old key: refused when tried after removal" in markdown


def test_the_appendix_shows_figures_as_tables_not_json(six_weeks):
    html, markdown = six_weeks.html, six_weeks.markdown
    appendix = html[html.index("<h2>Appendix"):]
    assert "<th>bytes sent</th><td>8.4 GB (8,400,000,000 bytes)</td>" in appendix
    assert "<th>checked</th><td>source, staging, production</td>" in appendix
    assert "{" not in appendix and '"' + "delivery" not in appendix
    assert "(by hand: `offboard db import alpha --target staging --delivery delta`)" in markdown


def test_the_report_holds_no_secret_even_when_the_journal_holds_the_key_id(six_weeks):
    project, html, markdown = six_weeks.project, six_weeks.html, six_weeks.markdown
    assert KEY_ID in Journal.of_stack(project, STACK).path.read_text()  # the provision step's figures
    facts_json = report_facts(project, load_customer(project, STACK)).model_dump_json()
    for text in (html, markdown, facts_json):
        assert SECRET not in text and "password" not in text.lower()


def test_a_failed_step_is_the_outcome(project):
    journal, clock = Journal.of_stack(project, STACK), Clock(START)
    steps = load_runbook(project, load_customer(project, STACK), None).workflow("initial").steps
    for step in steps[:steps.index(next(s for s in steps if s.id == "export-db")) + 1]:
        walk_step(journal, "initial", step, clock)
    lines = journal.path.read_text().splitlines()
    journal.path.write_text("\n".join(lines[:-2]) + "\n")  # export-db's retry never happened
    facts = report_facts(project, load_customer(project, STACK))
    assert (facts.outcome, facts.outcome_step) == ("failed", "export-db")
    assert facts.outcome_text == f"failed at export-db: {FAILED_ERROR.splitlines()[0]}"


def test_the_cli_reports_a_journal_of_acceptances_only_and_prints_its_facts_as_json(project):
    Journal.of_stack(project, STACK).append(Acceptance(
        step="accept-unmapped", workflow="delta", actor="ch-msp", kind="manual", target="production", ids=[UNMAPPED[0]],
        reason="left the company", confirmed_by="Ann Operator", start=START, end=START))
    result = run_cli(project, "report", STACK, "--json")
    assert result.returncode == 0, result.stderr
    printed = json.loads(result.stdout)
    facts = printed["facts"]
    assert (facts["customer"], facts["outcome"], facts["steps"]) == ("Alpha Holding AG", "not started", [])
    assert facts["first"].startswith("2026-09-07T09:00")
    assert "Nothing has been delivered yet." in Path(printed["html"]).read_text(encoding="utf-8")
    assert "- support case: not yet recorded" in Path(printed["markdown"]).read_text(encoding="utf-8")


def test_a_stack_without_a_journal_has_no_report(project):
    with pytest.raises(OffboardError, match="stack alpha has no journal yet: run its runbook first"):
        report_facts(project, load_customer(project, STACK))

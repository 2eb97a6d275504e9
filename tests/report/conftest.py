from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

import pytest

from offboard.customer import load_customer
from offboard.project import Project
from offboard.report import ReportFacts, report_facts, write_report
from tests.conftest import make_project
from tests.report.support import write_six_week_journal
from tests.runbook.support import STACK


class Written(NamedTuple):
    project: Project
    facts: ReportFacts
    html: str
    markdown: str
    html_path: Path


@pytest.fixture(scope="module")
def six_weeks(tmp_path_factory) -> Written:
    """The report of alpha's six-week migration, written once per module (the tests only read it)."""
    project = make_project(tmp_path_factory.mktemp("report") / "project")
    write_six_week_journal(project)
    customer = load_customer(project, STACK)
    facts = report_facts(project, customer)
    html, markdown = write_report(project, customer, facts)
    return Written(project, facts, html.read_text(encoding="utf-8"), markdown.read_text(encoding="utf-8"), html)

import stat
from datetime import date, timedelta

import pytest

from offboard.customer import load_customer
from offboard.errors import OffboardError
from offboard.fixup.acceptance import accept_unmapped
from offboard.fixup.report import FixupReport, Merge, Place, Unmapped, report_path
from offboard.runbook.mirror import JOURNAL_KEY
from offboard.runbook.texts import write_texts
from offboard.runbook.workflow import load_runbook

from tests.conftest import run_cli
from tests.runbook.support import BUCKET, CUSTOMER_NAME, KEY_ID, ORG_ID, OUTPUTS, SECRET, STACK


def steps_with_texts(project):
    runbook = load_runbook(project, load_customer(project, STACK), OUTPUTS)
    return {step.id: step for name in ("initial", "delta") for step in runbook.workflow(name).steps if step.texts}


def write(project, step_id, outputs=OUTPUTS):
    return write_texts(project, load_customer(project, STACK), steps_with_texts(project)[step_id], outputs)


def test_every_text_renders_and_only_the_box_folder_holds_bucket_or_key(project):
    for step_id in steps_with_texts(project):
        for text in write(project, step_id):
            body = text.path.read_text()
            assert ORG_ID in body
            assert stat.S_IMODE(text.path.stat().st_mode) == 0o600
            leaked = [value for value in (BUCKET, KEY_ID, SECRET) if value in body]
            assert leaked == ([BUCKET, KEY_ID, SECRET] if text.audience == "box-folder" else []), text.path.name


def test_the_initial_support_case_asks_for_the_data_and_the_box_invitation(project):
    [case] = write(project, "open-initial-case")
    body = case.path.read_text()
    assert case.audience == "support-case"
    assert case.path.parent == project.stack_state_dir(STACK) / "texts"
    for expected in (ORG_ID, CUSTOMER_NAME, "migration@msp.example.com", "Box"):
        assert expected in body
    assert "bucket" not in body.lower().replace("bucket information", "")


@pytest.mark.parametrize(("inserted", "named"), [
    ("{{ outputs.bucket }}", "bucket name"),
    (KEY_ID, "access key id"),  # pasted into a template by hand: the key is not in its context
    (SECRET, "secret access key"),
])
def test_a_support_text_that_would_leak_is_refused_and_nothing_is_written(project, inserted, named):
    template = project.runbooks_dir / "templates" / "access-info-shared.txt.j2"
    template.write_text(template.read_text() + f"\nfor reference: {inserted}\n")
    with pytest.raises(OffboardError, match=f"support-case text of share-access-info .* contains the {named}: refused") as refused:
        write(project, "share-access-info")
    assert not any(value in str(refused.value) for value in (BUCKET, KEY_ID, SECRET))
    assert not (project.stack_state_dir(STACK) / "texts").exists()  # nor the Box folder's text of the same step


def test_the_box_folder_text_needs_the_stack_outputs(project):
    with pytest.raises(OffboardError, match="share-access-info: the box-folder text needs the stack's outputs"):
        write(project, "share-access-info", outputs=None)


def test_only_the_box_folder_text_is_given_the_key(project):
    template = project.runbooks_dir / "templates" / "access-info-shared.txt.j2"
    template.write_text(template.read_text() + "{{ outputs.access_key_id }}\n")
    with pytest.raises(OffboardError, match="access-info-shared.txt.j2: 'dict object' has no attribute 'access_key_id'"):
        write(project, "share-access-info")


def test_the_customer_text_says_what_is_open_or_accepted_and_never_names_an_id(project, bucket):
    report = FixupReport(org_id=ORG_ID, dry_run=False, created="2026-11-30T10:00:00Z", tables=[],
                         unmapped=[Unmapped(id="48756361", places=[Place(table="EMPINST.EMPLOYEE", column="PROF_GUID", rows=1)])],
                         merged=[Merge(table="EMPINST.EMPLOYEE", person="p-1", kept="k-1", removed="r-1", repointed=2)])
    project.stack_state_dir(STACK).mkdir(parents=True)
    report.save(report_path(project.stack_state_dir(STACK), "production"))

    def production_text() -> str:
        [text] = write(project, "customer-confirms-delta")
        return " ".join(text.path.read_text().split())

    held = production_text()
    assert "in place" not in held and "1 of your users could not be matched" in held and "not confirm" in held
    accept_unmapped(project, STACK, "production", ["48756361"], reason="left the company", by="Ann Operator", backend="local",
                    outputs=lambda: OUTPUTS)
    ready = production_text()
    assert "every database row in place" in ready and "As agreed (left the company), 1 user without a person" in ready
    assert "1 of your people already had an account" in ready
    assert "48756361" not in held + ready
    assert b'"status":"accepted"' in bucket.objects[(BUCKET, JOURNAL_KEY)]  # the journal's copy holds the decision too


def one_line(text) -> str:
    return " ".join(text.path.read_text().split())


def test_a_text_says_plainly_what_is_not_yet_recorded(project):
    [watch] = write(project, "request-watch-list")
    assert watch.path.read_text().startswith("Case number: not yet recorded\n")
    [request] = write(project, "mark-read-only")
    assert "on the agreed cut-over date (not yet recorded), please" in one_line(request)
    [case] = write(project, "open-delta-case")
    assert "Initial delivery's case: not yet recorded" in case.path.read_text()


def test_recorded_case_ticket_and_date_are_in_the_texts(local_project):
    project, day = local_project, date.today() + timedelta(days=9)
    recorded = run_cli(project, "runbook", "record", STACK, "--case", "CS0012345", "--ticket", "box-folder=TS0042",
                       "--cutover", day.isoformat(), "--by", "Ann Operator", "--backend", "local")
    assert recorded.returncode == 0, recorded.stderr
    shown_day = f"{day:%A} {day.day} {day:%B %Y}"
    [watch] = write(project, "request-watch-list")
    assert watch.path.read_text().startswith("Case number: CS0012345\n")
    [ticket] = write(project, "file-transfer-ticket")
    assert "Support case: CS0012345\nBox folder ticket: TS0042\n" in ticket.path.read_text()
    [request] = write(project, "mark-read-only")
    assert f"Subject: Cut-over on {shown_day}:" in request.path.read_text()
    assert f"on the agreed cut-over date ({shown_day}), please" in one_line(request)
    [delta_case] = write(project, "open-delta-case")
    assert f"Initial delivery's case: CS0012345\nCut-over date:           {shown_day}\n" in delta_case.path.read_text()


def test_a_reference_given_on_confirm_flows_into_the_texts(project, runbook):
    outcome = runbook.run("initial")
    while outcome.stopped_at != "open-initial-case":
        runbook.confirm(outcome.stopped_at)
        outcome = runbook.run("initial")
    runbook.confirm("open-initial-case", ref="CS0099887")
    outcome = runbook.run("initial")
    assert outcome.stopped_at == "request-watch-list"
    [watch] = outcome.texts
    assert watch.path.read_text().startswith("Case number: CS0099887\n")
    runbook.confirm("request-watch-list")
    [ticket] = runbook.run("initial").texts
    assert "Support case: CS0099887\n" in ticket.path.read_text()

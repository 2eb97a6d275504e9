"""A running machine step shows its stage's progress on stderr: the stage commands' bar on a
terminal, plain lines in a pipe; the stages report to it when called without `progress=`."""

from __future__ import annotations

import io

from rich.console import Console

from offboard.files.progress import Lines
from offboard.runbook import commands
from offboard.runbook.log import log_path
from offboard.runbook.progress import step_progress
from offboard.runbook.rendered import RenderedStep, execute
from offboard.sample import create_sample
from offboard.sample.stack import write_stack
from tests.conftest import remove_stack, run_cli

ENV = {"OFFBOARD_BACKEND": "local"}
STEP = RenderedStep(stack="alpha", backend="local", workflow="initial", step="import-files-staging", rendered_from={})


def moving(runtime):
    """A stage that reports as the stages do when the runbook gives them no sink of their own."""
    files = runtime.progress.files()
    files.start(total_bytes=1000, total_files=4)
    for _ in range(4):
        files.advance(bytes=250, files=1)
    rows = runtime.progress.rows()
    rows("FILES.MEDIA", 7)
    return {"files": 4}


def test_a_steps_progress_reaches_stderr_as_plain_lines_when_it_is_no_terminal(project, capsys):
    assert execute(STEP, moving, project) == {"files": 4}
    shown = capsys.readouterr()
    assert shown.out == ""  # stdout stays for the result
    lines = shown.err.splitlines()
    assert [line.split(", ")[0] for line in lines] == [
        *(f"import-files-staging: {share}%" for share in (0, 25, 50, 75, 100)), "import-files-staging: 7 rows"]
    assert lines[0] == "import-files-staging: 0%, 0 bytes of 1.0 kB, 0/4 files, 0 bytes/s"
    assert lines[4].startswith("import-files-staging: 100%, 1.0 kB of 1.0 kB, 4/4 files, ")
    assert lines[5].endswith(" rows/s, in FILES.MEDIA")


def test_on_a_terminal_the_step_shows_the_stage_commands_bars_titled_with_its_id(project):
    screen = io.StringIO()
    with step_progress("verify-staging", log=lambda line: None,
                       console=Console(file=screen, force_terminal=True, width=120)) as progress:
        files = progress.files()
        files.start(total_bytes=2_000_000, total_files=2)
        files.advance(bytes=2_000_000, files=2)
        progress.rows()("FILES.MEDIA", 1234)
    drawn = screen.getvalue()
    assert "verify-staging" in drawn and "2/2 files" in drawn and "2.0 MB" in drawn  # terminal_progress's bar
    assert "1,234 rows" in drawn and "FILES.MEDIA" in drawn  # then terminal_rows's line


def test_plain_lines_come_at_each_tenth_not_at_each_report():
    lines: list[str] = []
    progress = Lines("export-files", lines.append)
    progress.start(total_bytes=10_000, total_files=100)
    for _ in range(100):
        progress.advance(bytes=100, files=1)
    assert [line.split(", ")[0] for line in lines] == [f"export-files: {share}%" for share in range(0, 101, 10)]


def test_runbook_run_in_a_pipe_prints_the_exports_progress_on_stderr(local_project, tmp_path, endpoint_session):
    """The initial delivery of a sample, people's steps confirmed in this process, then the two
    exports run by `offboard runbook run` with stderr a pipe."""
    project = local_project
    sample = create_sample(tmp_path / "sample", orgs=1)
    write_stack(project, "acme", sample, sample.org_ids[0])
    commands.render(project, "acme", "initial", backend="local")
    try:
        while True:  # every step before the exports
            outcome = commands.run(project, "acme", "initial", backend="local", until="file-transfer-ticket")
            assert outcome.ok, outcome.message
            if outcome.reason != "person":
                break
            commands.confirm(project, "acme", outcome.stopped_at, by="Test Operator", backend="local")
        ran = run_cli(project, "runbook", "run", "acme", "initial", "--until", "export-db", env=ENV)
        assert ran.returncode == 0, ran.stderr
        assert "ran export-files: done" in ran.stdout and "ran export-db: done" in ran.stdout
        shown = ran.stderr.splitlines()
        assert any(line.startswith("export-files: 0%, 0 bytes of ") for line in shown), ran.stderr
        assert any(line.startswith("export-files: 100%, ") for line in shown), ran.stderr
        assert any(line.startswith("export-db: ") and " rows, " in line for line in shown), ran.stderr
        logged = log_path(project, "acme").read_text()
        assert "export-files: started, initial delivery, backend local" in logged
        assert "export-files: 100%, " in logged and "export-db: done after " in logged
    finally:
        remove_stack(project, "acme", endpoint_session[1])

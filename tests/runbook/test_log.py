"""The stack's log file: every step run, its start, outcome, figures and milestones, in UTC,
appended, 0600, and never a secret."""

from __future__ import annotations

import re
import stat

import pytest

from offboard import masking
from offboard.errors import OffboardError, Waiting
from offboard.runbook.log import log_path
from offboard.runbook.rendered import RenderedStep, execute
from tests.runbook.support import KEY_ID, OUTPUTS, SECRET, STACK

PASSWORD = "pa55-Word-filled-in"
STAMP = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ"


def header(step: str) -> RenderedStep:
    return RenderedStep(stack=STACK, backend="local", workflow="initial", step=step, rendered_from={})


def failing(error: BaseException):
    def run(runtime):
        raise error
    return run


def test_each_step_run_is_appended_with_its_outcome_and_figures_in_utc(project):
    path = log_path(project, STACK)
    path.parent.mkdir(parents=True)
    path.write_text("an earlier line\n")
    path.chmod(0o644)

    def exporting(runtime):
        files = runtime.progress.files()
        files.start(total_bytes=100, total_files=1)
        files.advance(bytes=100, files=1)
        return {"files": 1}

    execute(header("export-files"), exporting, project)
    with pytest.raises(OffboardError):
        execute(header("export-db"), failing(OffboardError("the source is not reachable")), project)
    with pytest.raises(Waiting):
        execute(header("download"), failing(Waiting("the delivery is not in the bucket yet")), project)
    with pytest.raises(KeyboardInterrupt):
        execute(header("import-files-staging"), failing(KeyboardInterrupt()), project)
    execute(header("provision"), lambda runtime: {"dry_run": True}, project, dry_run=True)

    lines = path.read_text().splitlines()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert lines[0] == "an earlier line" and len(lines) == 13
    for line, message in zip(lines[1:], [
        "export-files: started, initial delivery, backend local",
        "export-files: 0%, 0 bytes of 100 bytes, 0/1 files, 0 bytes/s",
        r"export-files: 100%, 100 bytes of 100 bytes, 1/1 files, .*/s",
        r'export-files: done after \d+\.\d s: \{"files": 1\}',
        "export-db: started, initial delivery, backend local",
        r"export-db: failed after \d+\.\d s: the source is not reachable",
        "download: started, initial delivery, backend local",
        r"download: waiting after \d+\.\d s: the delivery is not in the bucket yet",
        "import-files-staging: started, initial delivery, backend local",
        r"import-files-staging: interrupted after \d+\.\d s",
        "provision: started, initial delivery, backend local, dry run",
        r'provision: done after \d+\.\d s: \{"dry_run": true\}',
    ]):
        assert re.fullmatch(f"{STAMP} {message}", line), line


def test_no_secret_reaches_the_log(project, registered):
    OUTPUTS.save(project.stack_state_dir(STACK))  # the key, as the stack's state holds it
    masking._filled_in.clear()  # the key found through the stack, not through an earlier load
    masking.register_secret(PASSWORD)  # a database password, as `database_urls` fills it in

    def leaking(runtime):
        return {"said": f"key {KEY_ID} {SECRET} at db2://user:{PASSWORD}@host/FILES with {PASSWORD}"}

    execute(header("export-db"), leaking, project)
    with pytest.raises(OffboardError):
        execute(header("import-db-staging"), failing(OffboardError(f"refused: {SECRET} {PASSWORD}")), project)
    logged = log_path(project, STACK).read_text()
    assert "export-db: done" in logged and "import-db-staging: failed" in logged
    for secret in (KEY_ID, SECRET, PASSWORD):
        assert secret not in logged

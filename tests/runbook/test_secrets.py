"""After both workflows, the key appears in the Box folder's file and nowhere else we wrote or returned."""

import json
import stat
from urllib.parse import quote, quote_plus

from offboard.masking import register_secret
from offboard.runbook.outcome import as_json
from offboard.runbook.journal import Journal
from offboard.runbook.view import plan_view, steps_table

from tests.runbook.support import BUCKET, KEY_ID, SECRET, printed


def test_the_key_stays_out_of_the_journal_the_texts_and_what_is_returned(runbook):
    outcomes = runbook.walk("initial") + runbook.walk("delta")
    returned = [outcome.model_dump_json() for outcome in outcomes]
    returned += [json.dumps(runbook.plan(name).as_json()) for name in ("initial", "delta")]
    returned += [json.dumps(as_json(runbook.status()))]
    returned += [printed(plan_view(runbook.plan(name))) for name in ("initial", "delta")]
    returned += [printed(steps_table(runbook.status()))]
    for output in [*returned, runbook.journal.read_text()]:
        assert KEY_ID not in output and SECRET not in output

    texts = {path.name: path for path in runbook.texts.iterdir()}
    box = texts.pop("share-access-info.s3-access-info.txt")
    assert SECRET in box.read_text() and stat.S_IMODE(box.stat().st_mode) == 0o600
    assert len(texts) >= 14
    for path in texts.values():
        assert not [value for value in (KEY_ID, SECRET, BUCKET) if value in path.read_text()], path.name


def test_a_steps_error_and_figures_are_journaled_without_a_database_password(runbook, fakes, registered):
    password = 'pa"ss w0rd!'  # escaped in the journal's JSON text: redacted value by value, not in that text
    register_secret(password)
    url = f"db2+ibm_db://u:{quote(password, safe='')}@db2host:50000/FILES?PWD={quote_plus(password)}"
    fakes.replace("stack.up", lambda **args: {"source": url, "note": password, "rows": 3, "tables": ["FILES", 1]})
    runbook.confirm("select-msp")
    assert runbook.run("initial").reason == "person"

    def unreachable(**args):
        raise RuntimeError(f"cannot reach /data/PEOPLEDB;PWD={password}; {url}")

    fakes.replace("stack.up", unreachable)
    assert runbook.retry("provision").reason == "failed"
    done, failed = [entry for entry in Journal(runbook.journal).entries() if entry.step == "provision" and entry.end]
    assert done.figures == {"source": "db2+ibm_db://u:***@db2host:50000/FILES?PWD=***", "note": "***", "rows": 3,
                            "tables": ["FILES", 1]}
    assert failed.error == "RuntimeError: cannot reach /data/PEOPLEDB;PWD=***; db2+ibm_db://u:***@db2host:50000/FILES?PWD=***"

import json
import stat
from datetime import datetime, timezone

import pytest

from offboard.errors import OffboardError
from offboard.runbook.journal import Acceptance, Entry, Journal, step_state


def entry(step: str, status: str = "done") -> Entry:
    return Entry(step=step, workflow="initial", actor="ch-msp", kind="automated", action="x", status=status,
                 start=datetime(2025, 1, 1, tzinfo=timezone.utc))


def test_lines_are_appended_and_never_rewritten(tmp_path):
    journal = Journal(tmp_path / "journal.jsonl")
    journal.append(entry("a", "started"))
    before = journal.path.read_bytes()
    journal.append(entry("a", "done"))
    assert journal.path.read_bytes().startswith(before)
    assert [(e.step, e.status) for e in journal.entries()] == [("a", "started"), ("a", "done")]
    assert journal.latest()["a"].status == "done"
    assert json.loads(before)["start"] == "2025-01-01T00:00:00Z"
    assert stat.S_IMODE(journal.path.stat().st_mode) == 0o600


def test_a_line_torn_by_a_crash_is_skipped_and_kept(tmp_path):
    journal = Journal(tmp_path / "journal.jsonl")
    journal.append(entry("a", "started"))
    with open(journal.path, "a") as handle:
        handle.write('{"step": "a", "workf')  # the power went out during the write
    torn = journal.path.read_bytes()
    assert journal.latest()["a"].status == "started"
    journal.append(entry("b"))
    assert journal.path.read_bytes().startswith(torn)
    assert [(e.step, e.status) for e in journal.entries()] == [("a", "started"), ("b", "done")]


def test_a_line_that_is_not_an_entry_is_one_clear_error(tmp_path):
    journal = Journal(tmp_path / "journal.jsonl")
    journal.append(entry("a"))
    with open(journal.path, "a") as handle:
        handle.write('{"step": "b"}\n')
    with pytest.raises(OffboardError, match="line 2 is not a journal entry"):
        journal.entries()


def test_one_command_at_a_time(tmp_path):
    journal = Journal(tmp_path / "journal.jsonl")
    with journal.lock():
        with pytest.raises(OffboardError, match="another runbook command is working on this stack"):
            with Journal(journal.path).lock():
                pass
    with journal.lock():  # released
        pass


def test_a_failing_mirror_is_reported_not_raised(tmp_path):
    def broken(path):
        raise ConnectionError("endpoint unreachable")

    journal = Journal(tmp_path / "journal.jsonl", mirror=broken)
    assert journal.mirror() is None  # nothing to copy yet
    journal.append(entry("a"))
    assert journal.mirror() == "journal not mirrored: endpoint unreachable"
    assert journal.latest()["a"].status == "done"


def test_an_acceptance_is_kept_but_is_no_steps_state(tmp_path):
    journal = Journal(tmp_path / "journal.jsonl")
    journal.append(entry("verify-production", "failed"))
    journal.append(Acceptance(step="accept-unmapped", workflow="delta", actor="ch-msp", kind="manual", target="production",
                              ids=["111"], reason="left the company", confirmed_by="Ann Operator"))
    assert [(e.step, e.status) for e in journal.entries()] == [("verify-production", "failed")]
    assert set(journal.latest()) == {"verify-production"} and journal.renderings() == {}
    [accepted] = journal.acceptances()
    assert (accepted.target, accepted.ids, accepted.reason) == ("production", ["111"], "left the company")
    with open(journal.path, "a") as handle:  # an acceptance that does not say what it accepts
        handle.write('{"step": "accept-unmapped", "workflow": "delta", "actor": "ch-msp", "kind": "manual", "status": "accepted"}\n')
    with pytest.raises(OffboardError, match="line 3 is not a journal entry"):
        journal.acceptances()


def test_a_revoked_step_is_pending_and_a_started_one_running_only_while_the_lock_is_held(tmp_path):
    journal = Journal(tmp_path / "journal.jsonl")
    journal.append(entry("a"))
    journal.append(entry("a", "revoked"))
    journal.append(entry("b", "started"))
    assert set(journal.latest()) == {"b"} and [e.status for e in journal.entries()] == ["done", "revoked", "started"]
    assert step_state(journal.latest().get("a"), journal.locked()) == "pending"
    assert step_state(journal.latest()["b"], journal.locked()) == "interrupted"  # no command holds the lock: it died
    with journal.lock():
        assert journal.locked() and step_state(journal.latest()["b"], journal.locked()) == "running"
    assert not journal.locked()
    journal.append(entry("a"))  # confirmed again
    assert journal.latest()["a"].status == "done"

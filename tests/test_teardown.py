from __future__ import annotations

import hashlib
import json
import tarfile

import pytest
from botocore.exceptions import ClientError

from offboard.infra.embedded import EmbeddedBackend
from offboard.infra.probe import key_refused
from offboard.transfer.session import customer_s3
from tests.conftest import remove_stack, run_cli

ENV = {"OFFBOARD_BACKEND": "local"}


@pytest.fixture
def delivered(local_project, customers, endpoint_session):
    """alpha with what a migration leaves: versions, a delete marker, an unfinished upload, manifests."""
    outputs = EmbeddedBackend(local_project).up(customers["alpha"])
    s3 = customer_s3(outputs)
    for body in (b"v1", b"v2"):
        s3.put_object(Bucket=outputs.bucket, Key="initial/files/archives/00001.tar", Body=body)
    s3.put_object(Bucket=outputs.bucket, Key="initial/db/manifest.json", Body=b'{"delivery": "initial"}')
    s3.put_object(Bucket=outputs.bucket, Key="delta-1/gone.txt", Body=b"x")
    s3.delete_object(Bucket=outputs.bucket, Key="delta-1/gone.txt")
    s3.create_multipart_upload(Bucket=outputs.bucket, Key="delta-1/files/archives/00002.tar")
    yield local_project, outputs
    remove_stack(local_project, "alpha", endpoint_session[1])


def test_teardown_waits_for_the_confirmed_delta_and_touches_nothing_meanwhile(delivered):
    project, outputs = delivered
    refused = run_cli(project, "teardown", "alpha", env=ENV)
    assert refused.returncode == 1
    assert refused.stderr == ("offboard: teardown refused: Teardown cannot run until the delta is verified and the customer "
                              "has confirmed it (waiting for verify-production, customer-confirms-delta); "
                              "--force --reason TEXT overrides and is journaled\n")  # its own gate, not the delta's first
    dry = run_cli(project, "teardown", "alpha", "--dry-run", env=ENV)
    assert dry.returncode == 0, dry.stderr
    assert "delete 5 object versions" in dry.stdout and "nothing was changed" in dry.stdout
    assert "teardown refused: Teardown cannot run" in dry.stdout
    no_reason = run_cli(project, "teardown", "alpha", "--force", env=ENV)
    assert no_reason.stderr == "offboard: --force needs --reason: the override is written into the journal\n"
    assert not key_refused(outputs)
    assert customer_s3(outputs).get_object(Bucket=outputs.bucket, Key="initial/db/manifest.json")["Body"].read()


def test_forced_teardown_archives_empties_destroys_and_proves_the_key_refused(delivered, endpoint_session):
    project, outputs = delivered
    state = project.stack_state_dir("alpha")
    proof = ["merged-production.json", "rewritten-production.json", "fixup-production.json", "wsadmin/sync-members.py"]
    left = ["db-export/initial/db/EMPINST.EMPLOYEE.00001.del.gz", "db-import/initial/db/manifest.json", "texts/s3-access-info.txt"]
    for name in proof + left:  # what the fix-ups did, the script given to the administrator; the org's rows, the key
        (state / name).parent.mkdir(parents=True, exist_ok=True)
        (state / name).write_text(f"{name}\n")
    result = run_cli(project, "teardown", "alpha", "--force", "--reason", "contract ended early", env=ENV)
    assert result.returncode == 0, result.stderr
    assert "5 object versions deleted" in result.stdout  # 2 of the archive, the manifest, gone.txt and its marker
    assert "removed here: db-export, db-import, texts/s3-access-info.txt" in result.stdout
    assert not any((state / name.split("/")[0]).exists() for name in left[:2]) and not (state / left[2]).exists()

    [archive] = (project.stack_state_dir("alpha") / "archive").glob("*.tar.gz")
    digest, name = archive.with_name(archive.name + ".sha256").read_text().split()
    assert name == archive.name and digest == hashlib.sha256(archive.read_bytes()).hexdigest()
    with tarfile.open(archive) as tar:
        assert tar.extractfile("bucket/initial/db/manifest.json").read() == b'{"delivery": "initial"}'
        assert all(tar.extractfile(f"local/{name}").read() == f"{name}\n".encode() for name in proof)

    admin = endpoint_session[1].client("s3", outputs.region)
    with pytest.raises(ClientError):
        admin.head_bucket(Bucket=outputs.bucket)
    assert key_refused(outputs)
    last = json.loads((project.stack_state_dir("alpha") / "journal.jsonl").read_text().splitlines()[-1])
    assert (last["step"], last["status"]) == ("teardown", "done")
    assert last["note"].endswith(": contract ended early") and last["figures"]["sha256"] == digest

    again = run_cli(project, "teardown", "alpha", env=ENV)
    assert again.returncode == 0 and "already torn down" in again.stdout
    assert len((project.stack_state_dir("alpha") / "journal.jsonl").read_text().splitlines()) == 1

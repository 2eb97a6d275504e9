"""After cut-over: keep the proof, empty and remove the bucket, revoke the key, prove it.

Order matters: the archive (journal, manifests, fix-up and verification reports, all fetched
from the bucket and the state folder) is written and hashed before anything is deleted; the
bucket is emptied of every version, delete marker and unfinished upload with the operator's
own credentials (the customer's key cannot delete versions); then the stack is destroyed and
the old key is tried once more: it must be refused.
"""

from __future__ import annotations

import io
import json
import shutil
import tarfile
import time
from contextlib import nullcontext
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterator

from offboard.errors import NotProvisioned, OffboardError
from offboard.files.hashing import sha256_file
from offboard.infra import stacks
from offboard.infra.outputs import StackOutputs
from offboard.infra.probe import key_refused
from offboard.runtime import Runtime, one_at_a_time

DONE_FILE = "teardown.json"
TEARDOWN_STEP = "teardown"  # its step in runbooks/delta.yaml.j2
# Besides the journal: what the bucket holds as proof, kept in the archive.
PROOF_SUFFIXES = ("/manifest.json", "/manifest.jsonl", "runbook/journal.jsonl")
# modules: the code that ran; merged, rewritten: what the fix-ups did to people and files; wsadmin: the script given to the administrator
LOCAL_PROOF = ("journal.jsonl", "fixup-*.json", "merged-*.json", "rewritten-*.json", "verify-*.json", "modules/*/*.py", "wsadmin/*.py")
# What still holds the org's rows or the (now revoked) key once the proof is archived: the database
# work folders and the access information for the Box folder; teardown removes them.
LEFT_BEHIND = ("db-export", "db-import", "s3-access-info.txt", "texts/s3-access-info.txt")
KEY_REVOKED_WAIT = 120  # seconds: IAM deletes keys eventually, not at once


@one_at_a_time
def teardown(runtime: Runtime, *, bucket: str) -> dict[str, Any]:
    """Archive, empty, destroy, prove; run again after it finished, it does nothing."""
    previous = finished(runtime)
    if previous:
        return previous
    customer = runtime.customer()
    chosen = stacks.backend(runtime.project, runtime.backend)
    try:
        outputs = runtime.outputs(bucket)
    except NotProvisioned:
        raise OffboardError(f"stack {runtime.stack} has no bucket to tear down") from None
    s3 = stacks.admin_s3(runtime.project, customer, runtime.backend)
    if runtime.dry_run:
        return {"dry_run": True, "bucket": bucket, "proof_objects": len(proof_keys(s3, bucket)),
                "versions_to_delete": count_versions(s3, bucket), "user_and_key_to_remove": outputs.user,
                "local_to_remove": left_behind(runtime.state_dir)}
    archive = write_archive(runtime, customer.org_id, s3, outputs)
    emptied = empty_bucket(s3, bucket)
    chosen.destroy(customer)
    prove_revoked(outputs)
    finished_at = datetime.now(timezone.utc).isoformat()
    figures = {"archive": str(archive), "sha256": sha256_file(archive), "objects_deleted": emptied, "bucket": bucket,
               "local_removed": remove_left_behind(runtime.state_dir), "key_refused_at": finished_at, "finished": finished_at}
    (runtime.state_dir / DONE_FILE).write_text(json.dumps(figures, indent=2), encoding="utf-8")
    return figures


def finished(runtime: Runtime) -> dict[str, Any] | None:
    """What an earlier, finished teardown of the stack recorded (with `already`), or None."""
    done = runtime.state_dir / DONE_FILE
    return {**json.loads(done.read_text(encoding="utf-8")), "already": True} if done.is_file() else None


def write_archive(runtime: Runtime, org_id: str, s3, outputs: StackOutputs) -> Path:
    """A .tar.gz of the proof, and beside it its sha256 in `sha256sum` format."""
    state = runtime.state_dir
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    archive = state / "archive" / f"{runtime.stack}-{org_id}-{stamp}.tar.gz"
    archive.parent.mkdir(parents=True, exist_ok=True)
    with tarfile.open(archive, "w:gz") as tar:
        for pattern in LOCAL_PROOF:
            for path in sorted(state.glob(pattern)):
                tar.add(path, arcname=f"local/{path.relative_to(state)}")
        for key in proof_keys(s3, outputs.bucket):
            body = s3.get_object(Bucket=outputs.bucket, Key=key)["Body"].read()
            info = tarfile.TarInfo(f"bucket/{key}")
            info.size, info.mtime = len(body), int(time.time())
            tar.addfile(info, io.BytesIO(body))
    archive.with_name(archive.name + ".sha256").write_text(f"{sha256_file(archive)}  {archive.name}\n", encoding="utf-8")
    return archive


def left_behind(state: Path) -> list[str]:
    return [name for name in LEFT_BEHIND if (state / name).exists()]


def remove_left_behind(state: Path) -> list[str]:
    """Remove what LEFT_BEHIND names; what was there."""
    removed = left_behind(state)
    for name in removed:
        path = state / name
        shutil.rmtree(path) if path.is_dir() else path.unlink()
    return removed


def proof_keys(s3, bucket: str) -> list[str]:
    keys = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        keys += [item["Key"] for item in page.get("Contents", []) if item["Key"].endswith(PROOF_SUFFIXES)]
    return keys


def version_pages(s3, bucket: str) -> Iterator[list[dict[str, str]]]:
    """Every object version and delete marker in the bucket, a page (at most 1000) at a time."""
    for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket):
        yield [{"Key": v["Key"], "VersionId": v["VersionId"]} for v in page.get("Versions", []) + page.get("DeleteMarkers", [])]


def count_versions(s3, bucket: str) -> int:
    """What emptying the bucket deletes."""
    return sum(len(versions) for versions in version_pages(s3, bucket))


def empty_bucket(s3, bucket: str) -> int:
    """Delete every object version and delete marker, abort every unfinished upload."""
    deleted = 0
    for page in s3.get_paginator("list_multipart_uploads").paginate(Bucket=bucket):
        for upload in page.get("Uploads", []):
            s3.abort_multipart_upload(Bucket=bucket, Key=upload["Key"], UploadId=upload["UploadId"])
    for versions in version_pages(s3, bucket):
        if versions:  # a page holds at most 1000, as much as one delete_objects takes
            answer = s3.delete_objects(Bucket=bucket, Delete={"Objects": versions, "Quiet": True})
            if answer.get("Errors"):
                first = answer["Errors"][0]
                raise OffboardError(f"bucket {bucket}: {first['Key']} could not be deleted: {first.get('Message', first.get('Code'))}")
            deleted += len(versions)
    return deleted


def prove_revoked(outputs: StackOutputs) -> None:
    deadline = time.monotonic() + KEY_REVOKED_WAIT
    while not key_refused(outputs):
        if time.monotonic() > deadline:
            raise OffboardError(f"the key {outputs.access_key_id} still opens bucket {outputs.bucket} after teardown")
        time.sleep(5)


def teardown_command(runtime: Runtime, *, bucket: str, force: bool = False, reason: str | None = None) -> dict[str, Any]:
    """`offboard teardown`: the runbook's gate (delta verified, customer's confirmation), or a
    journaled override; the teardown itself; its line in the journal."""
    from offboard.runbook.journal import Entry, Journal, seconds_between, utc_now
    from offboard.runbook.workflow import load_runbook

    previous = finished(runtime)
    if previous:
        return previous
    if force and not (reason or "").strip():
        raise OffboardError("--force needs --reason: the override is written into the journal")
    journal = Journal.of_stack(runtime.project, runtime.stack)
    with nullcontext() if runtime.dry_run else journal.lock():
        done = {step for step, entry in journal.latest().items() if entry.status == "done"}
        closed = load_runbook(runtime.project, runtime.customer(), None).closed_gates(TEARDOWN_STEP, done)
        gate = next((gate for gate in closed if gate.before == TEARDOWN_STEP), closed[0] if closed else None)  # its own first
        refusal = gate and f"teardown refused: {gate.title} (waiting for {', '.join(ref for ref in gate.requires if ref not in done)})"
        if runtime.dry_run:
            return {**teardown(runtime, bucket=bucket), "refused": refusal or None}
        if refusal and not force:
            raise OffboardError(f"{refusal}; --force --reason TEXT overrides and is journaled")
        start = utc_now()
        figures = teardown(runtime, bucket=bucket)
        end = utc_now()
        note = f"forced past {', '.join(gate.id for gate in closed)}: {reason}" if closed else None
        journal.append(Entry(step=TEARDOWN_STEP, workflow="delta", actor="ch-msp", kind="automated", action="teardown",
                             status="done", note=note, start=start, end=end,
                             duration=seconds_between(start, end), figures=figures))
    return figures

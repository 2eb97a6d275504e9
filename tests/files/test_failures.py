"""Throttling and server errors: retried without counting twice; a lasting failure leaves nothing half-done."""

from __future__ import annotations

import pytest
from botocore.awsrequest import AWSResponse
from botocore.config import Config
from botocore.exceptions import ClientError

from offboard.files.layout import files_prefix, manifest_key
from offboard.files.progress import Counter
from offboard.transfer.session import RETRIES, customer_session
from tests.files.conftest import write

BIG = 6 * 1024 * 1024  # two parts


class Body:
    def __init__(self, data: bytes) -> None:
        self.data = data

    def stream(self, **_):
        yield self.data


def error_response(request, status: int, code: str) -> AWSResponse:
    return AWSResponse(request.url, status, {}, Body(f"<Error><Code>{code}</Code><Message>injected</Message></Error>".encode()))


@pytest.fixture
def tree(roots):
    selection = [("files", "big.bin"), *[("files", f"small/{i}.txt") for i in range(6)]]
    write(roots["files"], "big.bin", b"b" * BIG)
    for _, relative in selection[1:]:
        write(roots["files"], relative, relative.encode() * 50)
    return selection


def test_throttled_and_failed_requests_are_retried_and_counted_once(alpha, roots, targets, tree):
    refused = set()

    def refuse_first_attempts(request, **_):
        if request.url not in refused:  # each part and each PUT is refused once; the first is throttled
            refused.add(request.url)
            return error_response(request, *((503, "SlowDown") if len(refused) == 1 else (500, "InternalError")))
        return None

    alpha.s3.meta.events.register("before-send.s3.UploadPart", refuse_first_attempts)
    alpha.s3.meta.events.register("before-send.s3.PutObject", refuse_first_attempts)
    counted = Counter()
    result = alpha.export(roots, tree, progress=counted)

    assert len(refused) >= 4
    data = sum((roots["files"] / relative).stat().st_size for _, relative in tree)
    assert (counted.bytes, counted.files) == (counted.total_bytes, counted.total_files) == (data, len(tree))
    assert result.bytes_sent == data
    alpha.import_("initial", targets)
    assert (targets["files"] / "big.bin").read_bytes() == b"b" * BIG


def test_a_lasting_failure_stops_the_export_and_leaves_no_upload_behind(alpha, roots, tree):
    def always_fail(request, **_):
        return error_response(request, 500, "InternalError")

    # The same key with two attempts instead of ten: a lasting failure, without minutes of backoff.
    alpha.s3 = customer_session(alpha.outputs).client(
        "s3", endpoint_url=alpha.outputs.endpoint_url, config=RETRIES.merge(Config(retries={"max_attempts": 2, "mode": "standard"})))

    alpha.s3.meta.events.register("before-send.s3.UploadPart", always_fail)
    with pytest.raises(ClientError, match="InternalError"):
        alpha.export(roots, tree)
    assert not alpha.s3.list_multipart_uploads(Bucket=alpha.bucket, Prefix=files_prefix("initial")).get("Uploads")
    assert not alpha.keys(manifest_key("initial"))

    alpha.s3.meta.events.unregister("before-send.s3.UploadPart", always_fail)
    alpha.export(roots, tree)
    assert set(alpha.delivered().files) == {f"{store}/{relative}" for store, relative in tree}

"""What a customer's key may and may not do, proven on the embedded endpoint with IAM enforced."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from offboard.errors import OffboardError
from offboard.infra.embedded import EmbeddedBackend
from offboard.transfer.session import customer_s3


def test_a_key_works_in_its_own_bucket(provisioned):
    outputs = provisioned
    a = outputs["alpha"]
    s3 = customer_s3(a)
    s3.put_object(Bucket=a.bucket, Key="initial/hello.txt", Body=b"hello")
    assert [o["Key"] for o in s3.list_objects_v2(Bucket=a.bucket)["Contents"]] == ["initial/hello.txt"]
    got = s3.get_object(Bucket=a.bucket, Key="initial/hello.txt")
    assert got["Body"].read() == b"hello"
    assert got["ServerSideEncryption"] == "aws:kms" and got["SSEKMSKeyId"] == a.kms_key_arn
    s3.delete_object(Bucket=a.bucket, Key="initial/hello.txt")
    assert "Contents" not in s3.list_objects_v2(Bucket=a.bucket)


def test_a_key_can_upload_in_parts(provisioned):
    outputs = provisioned
    a = outputs["alpha"]
    s3 = customer_s3(a)
    upload = s3.create_multipart_upload(Bucket=a.bucket, Key="initial/big.tar")
    parts = [s3.upload_part(Bucket=a.bucket, Key="initial/big.tar", UploadId=upload["UploadId"], PartNumber=n, Body=b"x" * 5 * 1024 * 1024)
             for n in (1, 2)]
    assert s3.list_multipart_uploads(Bucket=a.bucket)["Uploads"][0]["Key"] == "initial/big.tar"
    s3.complete_multipart_upload(Bucket=a.bucket, Key="initial/big.tar", UploadId=upload["UploadId"], MultipartUpload={
        "Parts": [{"PartNumber": n, "ETag": part["ETag"]} for n, part in enumerate(parts, 1)]})
    assert s3.head_object(Bucket=a.bucket, Key="initial/big.tar")["ContentLength"] == 10 * 1024 * 1024


def test_up_again_converges_and_keeps_the_key(provisioned, customers, local_project):
    backend, outputs = EmbeddedBackend(local_project), provisioned
    again = backend.up(customers["alpha"])
    assert again == outputs["alpha"]
    assert [row[2] for row in backend.preview(customers["alpha"])] == ["exists"] * 4


def test_outputs_come_from_the_stack_state(provisioned, customers, local_project):
    backend, outputs = EmbeddedBackend(local_project), provisioned
    assert backend.outputs(customers["beta"]) == outputs["beta"]


def test_destroy_refuses_a_bucket_that_still_holds_objects(provisioned, customers, local_project):
    backend, outputs = EmbeddedBackend(local_project), provisioned
    customer_s3(outputs["alpha"]).put_object(Bucket=outputs["alpha"].bucket, Key="kept", Body=b"k")
    with pytest.raises(OffboardError, match="still holds objects"):
        backend.destroy(customers["alpha"])


def test_after_destroy_the_key_is_refused(local_project, customers):
    backend = EmbeddedBackend(local_project)
    outputs = backend.up(customers["alpha"])
    backend.destroy(customers["alpha"])
    with pytest.raises(ClientError) as refused:
        customer_s3(outputs).list_objects_v2(Bucket=outputs.bucket)
    assert refused.value.response["Error"]["Code"] == "InvalidAccessKeyId"
    with pytest.raises(OffboardError, match="not provisioned"):
        backend.outputs(customers["alpha"])
    assert [row[2] for row in backend.preview(customers["alpha"])] == ["create"] * 4

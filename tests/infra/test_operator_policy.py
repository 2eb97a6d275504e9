"""The operator's policy, proven on the embedded endpoint with IAM enforced: enough to provision,
empty and destroy a customer's stack, and nothing outside the project's `offboard-*` resources."""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

from offboard.infra import embedded
from offboard.infra.embedded import EmbeddedBackend
from offboard.infra.policies import operator_policy
from offboard.teardown import empty_bucket
from offboard.transfer.session import customer_s3

README = Path(__file__).resolve().parents[2] / "README.md"
# moto authorizes three requests under names of its own: HEAD of a bucket (AWS: s3:ListBucket),
# the public access block (AWS: s3:PutBucketPublicAccessBlock, which `s3:PutBucket*` grants), and
# DeleteObjects, as s3:DeleteObject on the bucket itself (AWS: on each object, as granted).
MOTO_NAMES = {"s3:ListBucket": "s3:HeadBucket", "s3:PutBucket*": "s3:PutPublicAccessBlock",
              "s3:ListBucketVersions": "s3:DeleteObject"}


def as_moto_reads(policy: dict) -> dict:
    """The policy as moto can evaluate it: its own action names added, and IAM's user and group
    patterns widened to `*`, since moto authorizes IAM and KMS requests against the resource `*`
    only (S3's are checked against the bucket: their scoping is proven below; IAM's is by name)."""
    for statement in policy["Statement"]:
        statement["Action"] += [MOTO_NAMES[action] for action in statement["Action"] if action in MOTO_NAMES]
        if statement["Sid"] == "CustomerUsersAndGroups":
            assert statement["Resource"] == ["arn:aws:iam::*:user/offboard-*", "arn:aws:iam::*:group/offboard-*"]
            statement["Resource"] = "*"
    return policy


@pytest.fixture
def operator(endpoint_session, monkeypatch):
    """The session's endpoint seen with an operator's key that holds the operator policy alone."""
    endpoint = endpoint_session[1]
    iam = endpoint.client("iam")
    iam.create_user(UserName="msp-operator")
    iam.put_user_policy(UserName="msp-operator", PolicyName="offboard", PolicyDocument=json.dumps(as_moto_reads(operator_policy())))
    key = iam.create_access_key(UserName="msp-operator")["AccessKey"]
    seen = dataclasses.replace(endpoint, admin_key_id=key["AccessKeyId"], admin_secret=key["SecretAccessKey"])
    monkeypatch.setattr(embedded.local_endpoint, "running", lambda folder: seen)
    yield seen
    iam.delete_access_key(UserName="msp-operator", AccessKeyId=key["AccessKeyId"])
    iam.delete_user_policy(UserName="msp-operator", PolicyName="offboard")
    iam.delete_user(UserName="msp-operator")


def test_the_operator_provisions_empties_and_destroys_a_stack(operator, local_project, customers):
    backend, customer = EmbeddedBackend(local_project), customers["alpha"]
    outputs = backend.up(customer)
    customer_s3(outputs).put_object(Bucket=outputs.bucket, Key="initial/db/manifest.json", Body=b"{}")
    assert empty_bucket(operator.client("s3", customer.region), outputs.bucket) == 1
    backend.destroy(customer)
    with pytest.raises(ClientError):
        operator.client("s3", customer.region).head_bucket(Bucket=outputs.bucket)


def test_the_operator_reaches_no_other_bucket(operator, endpoint_session):
    endpoint_session[1].client("s3").create_bucket(Bucket="payroll-archive")
    s3 = operator.client("s3")
    for refused in (lambda: s3.create_bucket(Bucket="another-team"), lambda: s3.list_objects_v2(Bucket="payroll-archive"),
                    lambda: s3.delete_bucket(Bucket="payroll-archive")):
        with pytest.raises(ClientError) as error:
            refused()
        assert error.value.response["Error"]["Code"] in {"AccessDenied", "403"}
    endpoint_session[1].client("s3").delete_bucket(Bucket="payroll-archive")


def test_the_readme_shows_the_policy_as_it_is():
    block = re.search(r"<!-- operator-policy -->\n```json\n(.*?)```", README.read_text(), re.DOTALL)
    assert block and json.loads(block[1]) == operator_policy()

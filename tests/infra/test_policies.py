from __future__ import annotations

import re

from offboard.customer import Customer
from offboard.infra import policies


def customer(stack: str = "alpha", org_id: str = "20011111", **extra) -> Customer:
    return Customer(stack=stack, region="eu-central-1", org_id=org_id, customer_name="Alpha", msp_email="a@b.example", **extra)


S3_NAME = re.compile(r"^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$")


def test_bucket_names_are_valid_unique_and_stable():
    long_stack = "a" * 20 + "-" + "b" * 19
    names = {policies.bucket_name(customer(stack, org)) for stack in ("alpha", "beta", long_stack) for org in ("1", "20011111", "9" * 20)}
    assert len(names) == 9
    assert all(S3_NAME.match(name) and "--" not in name for name in names)
    assert policies.bucket_name(customer()) == "offboard-alpha-20011111"
    shortened = policies.bucket_name(customer(long_stack, "9" * 20))
    assert len(shortened) == 63 and shortened == policies.bucket_name(customer(long_stack, "9" * 20))


def test_the_transfer_policy_names_only_this_bucket_and_key_and_no_wildcard_action():
    document = policies.transfer_policy("bucket-a", "arn:aws:kms:eu-central-1:1:key/k")
    actions = [action for statement in document["Statement"] for action in statement["Action"]]
    resources = {statement["Resource"] for statement in document["Statement"]}
    assert resources == {"arn:aws:s3:::bucket-a", "arn:aws:s3:::bucket-a/*", "arn:aws:kms:eu-central-1:1:key/k"}
    assert all("*" not in action for action in actions)
    assert all(statement["Effect"] == "Allow" for statement in document["Statement"])
    assert not {"s3:PutBucketPolicy", "s3:DeleteObjectVersion", "s3:ListAllMyBuckets", "s3:DeleteBucket"} & set(actions)


def test_without_kms_the_policy_has_no_kms_statement():
    document = policies.transfer_policy("bucket-a", None)
    assert not any(action.startswith("kms:") for s in document["Statement"] for action in s["Action"])


def test_sse_s3_is_selectable():
    assert policies.encryption(customer(encryption="sse-s3"), None) == {
        "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]
    }


def test_s3_shapes_become_pulumi_arguments():
    assert policies.pulumi_args(policies.encryption(customer(), "arn:k")) == {
        "rules": [{"apply_server_side_encryption_by_default": {"sse_algorithm": "aws:kms", "kms_master_key_id": "arn:k"}, "bucket_key_enabled": True}]
    }
    assert policies.pulumi_args(policies.lifecycle(customer(noncurrent_version_days=12)))["rules"][1] == {
        "id": "expire-noncurrent-versions", "status": "Enabled", "filter": {"prefix": ""},
        "noncurrent_version_expiration": {"noncurrent_days": 12},
    }

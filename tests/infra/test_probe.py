from __future__ import annotations

import json

from offboard.infra.probe import key_checks, key_refused
from offboard.transfer.session import customer_s3


def test_a_key_works_in_its_bucket_and_is_refused_everywhere_else(provisioned):
    outputs = provisioned
    a, b = outputs["alpha"], outputs["beta"]
    customer_s3(b).put_object(Bucket=b.bucket, Key="offboard-probe/probe.txt", Body=b"beta's")
    checks = {check.action: check for check in key_checks(a, b.bucket)}
    assert {action for action, check in checks.items() if check.allowed} == {
        "put an object in its bucket", "list its bucket", "get an object from its bucket", "delete an object in its bucket",
    }
    assert {action for action, check in checks.items() if not check.allowed} == {
        "list another customer's bucket", "get from another customer's bucket", "put into another customer's bucket",
        "list all buckets", "create a bucket", "change its bucket's policy", "create an IAM user",
    }
    assert all(check.ok for check in checks.values())
    assert customer_s3(b).get_object(Bucket=b.bucket, Key="offboard-probe/probe.txt")["Body"].read() == b"beta's"
    assert not key_refused(a)


def test_a_key_with_too_many_rights_is_caught(provisioned, endpoint_session):
    outputs = provisioned
    a, b = outputs["alpha"], outputs["beta"]
    too_broad = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}
    iam = endpoint_session[1].client("iam")
    iam.put_group_policy(GroupName=a.group, PolicyName="too-broad", PolicyDocument=json.dumps(too_broad))
    try:
        failed = {check.action for check in key_checks(a, b.bucket) if not check.ok}
    finally:
        iam.delete_group_policy(GroupName=a.group, PolicyName="too-broad")
        admin = endpoint_session[1].client("s3", a.region)
        admin.delete_bucket_policy(Bucket=a.bucket)
        admin.delete_bucket(Bucket=f"{a.bucket}-rogue")
    assert failed == {
        "list another customer's bucket", "get from another customer's bucket", "put into another customer's bucket",
        "list all buckets", "create a bucket", "change its bucket's policy",
    }
    assert "create an IAM user" not in failed

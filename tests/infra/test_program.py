"""The Pulumi program under Pulumi's own mocks: what `pulumi up` would ask AWS for."""

from __future__ import annotations

import asyncio
import json
import runpy
from collections import defaultdict

import pulumi
import pytest

from offboard.errors import OffboardError
from offboard.infra.program import CustomerTransfer
from tests.infra.test_policies import customer


class RecordingMocks(pulumi.runtime.Mocks):
    def __init__(self) -> None:
        self.created: dict[str, list[dict]] = defaultdict(list)

    def new_resource(self, args: pulumi.runtime.MockResourceArgs):
        inputs = dict(args.inputs)
        self.created[args.typ].append({"name": args.name, **inputs})
        state = dict(inputs)
        if args.typ == "aws:s3/bucket:Bucket":
            state["arn"] = f"arn:aws:s3:::{inputs['bucket']}"
        if args.typ == "aws:kms/key:Key":
            state["arn"] = f"arn:aws:kms:eu-central-1:123456789012:key/{args.name}"
            state["keyId"] = args.name
        if args.typ == "aws:iam/accessKey:AccessKey":
            state.update(secret="mock-secret-value", createDate="2026-01-01T00:00:00Z")
            return "fake-key-id-mocked", state
        return f"{args.name}-id", state

    def call(self, args: pulumi.runtime.MockCallArgs):
        return {}


def provision(customer_settings):
    """Run the program under mocks; return what was created and the exported outputs."""
    mocks = RecordingMocks()
    pulumi.runtime.set_mocks(mocks, project="connections-offboard", stack=customer_settings.stack, preview=False)
    seen: dict = {}

    @pulumi.runtime.test
    def program():
        transfer = CustomerTransfer(customer_settings)

        async def resolve():
            for key, output in transfer.outputs.items():
                output = pulumi.Output.from_input(output)
                seen[key] = (await output.future(), await output.is_secret())

        return asyncio.ensure_future(resolve())

    program()
    return mocks.created, seen


def only(created, typ):
    assert len(created[typ]) == 1, created[typ]
    return created[typ][0]


@pytest.fixture(scope="module")
def alpha():
    return provision(customer())


def test_the_bucket_is_private_without_acls(alpha):
    created, _ = alpha
    block = only(created, "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock")
    assert all(block[key] is True for key in ("blockPublicAcls", "ignorePublicAcls", "blockPublicPolicy", "restrictPublicBuckets"))
    assert only(created, "aws:s3/bucketOwnershipControls:BucketOwnershipControls")["rule"] == {"objectOwnership": "BucketOwnerEnforced"}


def test_the_bucket_is_encrypted_with_the_customer_key(alpha):
    created, outputs = alpha
    key = only(created, "aws:kms/key:Key")
    assert key["enableKeyRotation"] is True and key["deletionWindowInDays"] == 30
    rule = only(created, "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration")["rules"][0]
    assert rule["applyServerSideEncryptionByDefault"] == {"sseAlgorithm": "aws:kms", "kmsMasterKeyId": outputs["kms_key_arn"][0]}
    assert rule["bucketKeyEnabled"] is True


def test_sse_s3_needs_no_kms_key():
    created, outputs = provision(customer(encryption="sse-s3"))
    assert not created["aws:kms/key:Key"] and outputs["kms_key_arn"][0] is None
    rule = only(created, "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration")["rules"][0]
    assert rule["applyServerSideEncryptionByDefault"] == {"sseAlgorithm": "AES256"}


def test_versioning_and_lifecycle(alpha):
    created, _ = alpha
    assert only(created, "aws:s3/bucketVersioning:BucketVersioning")["versioningConfiguration"] == {"status": "Enabled"}
    rules = {rule["id"]: rule for rule in only(created, "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration")["rules"]}
    assert rules["abort-incomplete-multipart-uploads"]["abortIncompleteMultipartUpload"] == {"daysAfterInitiation": 7}
    assert rules["expire-noncurrent-versions"]["noncurrentVersionExpiration"] == {"noncurrentDays": 30}


def test_the_bucket_policy_denies_every_request_without_tls(alpha):
    created, outputs = alpha
    policy = json.loads(only(created, "aws:s3/bucketPolicy:BucketPolicy")["policy"])
    [statement] = policy["Statement"]
    bucket = outputs["bucket"][0]
    assert statement["Effect"] == "Deny" and statement["Principal"] == "*" and statement["Action"] == "s3:*"
    assert statement["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    assert statement["Resource"] == [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"]


def test_the_policy_goes_to_the_group_and_names_exactly_this_bucket_and_key(alpha):
    created, outputs = alpha
    assert not created["aws:iam/userPolicy:UserPolicy"] and not created["aws:iam/userPolicyAttachment:UserPolicyAttachment"]
    group_policy = only(created, "aws:iam/groupPolicy:GroupPolicy")
    membership = only(created, "aws:iam/userGroupMembership:UserGroupMembership")
    assert membership["groups"] == [group_policy["group"]] == [outputs["group"][0]]
    document = json.loads(group_policy["policy"])
    bucket, key = outputs["bucket"][0], outputs["kms_key_arn"][0]
    granted = {(action, s["Resource"]) for s in document["Statement"] for action in s["Action"]}
    assert granted == {
        ("s3:GetBucketLocation", f"arn:aws:s3:::{bucket}"),
        ("s3:ListBucket", f"arn:aws:s3:::{bucket}"),
        ("s3:ListBucketMultipartUploads", f"arn:aws:s3:::{bucket}"),
        *((action, f"arn:aws:s3:::{bucket}/*") for action in
          ("s3:AbortMultipartUpload", "s3:DeleteObject", "s3:GetObject", "s3:ListMultipartUploadParts", "s3:PutObject")),
        ("kms:Decrypt", key),
        ("kms:GenerateDataKey", key),
    }


def test_outputs_are_exported_and_only_the_secret_is_secret(alpha):
    _, outputs = alpha
    assert set(outputs) == {"bucket", "region", "user", "group", "access_key_id", "access_key_created", "kms_key_arn", "secret_access_key"}
    assert outputs["secret_access_key"] == ("mock-secret-value", True)
    assert outputs["access_key_id"] == ("fake-key-id-mocked", False)
    assert not any(secret for key, (_, secret) in outputs.items() if key != "secret_access_key")


def test_tags_carry_org_customer_and_stack(alpha):
    created, _ = alpha
    tags = only(created, "aws:s3/bucket:Bucket")["tags"]
    assert tags == {"offboard:orgId": "20011111", "offboard:customer": "Alpha", "offboard:stack": "alpha"}


def physical_names(created) -> set[str]:
    keys = ("bucket", "name")
    return {r[key] for resources in created.values() for r in resources for key in keys if isinstance(r.get(key), str)}


def test_two_stacks_share_no_resource_name(alpha):
    beta, _ = provision(customer("beta", "20022222"))
    alpha_names, beta_names = physical_names(alpha[0]), physical_names(beta)
    assert len(alpha_names) >= 8 and not alpha_names & beta_names


def run_entry_point(monkeypatch, stack: str, config: dict) -> dict:
    """Run `src/offboard/infra/__main__.py` as `pulumi up` would, with this stack config."""
    monkeypatch.setenv("PULUMI_CONFIG", json.dumps(config))
    mocks = RecordingMocks()
    pulumi.runtime.set_mocks(mocks, project="connections-offboard", stack=stack, preview=False)

    @pulumi.runtime.test
    def program():
        runpy.run_module("offboard.infra.__main__", run_name="__main__")

    program()
    return mocks.created


GAMMA = {"aws:region": "eu-west-1", "offboard:orgId": "42", "offboard:customerName": "Gamma",
         "offboard:mspEmail": "m@msp.example", "offboard:encryption": "sse-s3"}


def test_the_entry_point_builds_the_stack_from_pulumi_config(monkeypatch):
    created = run_entry_point(monkeypatch, "gamma", GAMMA)
    assert only(created, "aws:s3/bucket:Bucket")["bucket"] == "offboard-gamma-42"
    assert not created["aws:kms/key:Key"]


def test_the_entry_point_refuses_bad_config_with_the_cli_message(monkeypatch):
    with pytest.raises(OffboardError, match=r"^stack gamma: offboard:orgId: String should match pattern"):
        run_entry_point(monkeypatch, "gamma", {**GAMMA, "offboard:orgId": "4x2"})

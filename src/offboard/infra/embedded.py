"""The embedded backend: the same customer resources as the Pulumi program, on the local endpoint.

It applies the documents of `policies` with boto3 and admin credentials, idempotently: run it
again and it converges, keeping the customer's key. One difference from AWS, on purpose: the
TLS-only bucket policy is not applied here, because moto ignores policy conditions such as
`aws:SecureTransport` and the Deny would refuse every request; the endpoint is plain HTTP on
127.0.0.1 anyway. The Pulumi program applies it (see tests/infra/test_program.py).
"""

from __future__ import annotations

import json

from botocore.exceptions import ClientError

from offboard.customer import Customer, Encryption
from offboard.errors import NotProvisioned, OffboardError
from offboard.infra import endpoint as local_endpoint
from offboard.infra import policies
from offboard.infra.outputs import StackOutputs
from offboard.project import Project

TRANSFER_POLICY_NAME = "transfer"


class EmbeddedBackend:
    name = "local"

    def __init__(self, project: Project) -> None:
        self.project = project
        self.endpoint_dir = project.state_dir / "local"

    def up(self, customer: Customer) -> StackOutputs:
        endpoint = local_endpoint.running(self.endpoint_dir)
        kms_key_arn = ensure_kms_key(endpoint, customer)
        bucket = ensure_bucket(endpoint, customer, kms_key_arn)
        identity = ensure_identity(endpoint, customer, policies.transfer_policy(bucket, kms_key_arn))
        key = ensure_access_key(endpoint, identity, self.stored(customer, endpoint))
        outputs = StackOutputs(
            bucket=bucket, region=customer.region, user=identity, group=identity, kms_key_arn=kms_key_arn,
            access_key_id=key["AccessKeyId"], access_key_created=key["CreateDate"], secret_access_key=key["SecretAccessKey"],
            endpoint_url=endpoint.url, endpoint_instance=endpoint.instance,
        )
        outputs.save(self.project.stack_state_dir(customer.stack))
        return outputs

    def preview(self, customer: Customer) -> list[tuple[str, str, str]]:
        """(resource, name, create|exists) for every resource `up` manages."""
        endpoint = local_endpoint.running(self.endpoint_dir)
        iam, name = endpoint.client("iam"), policies.resource_name(customer)
        planned = [
            ("s3 bucket", policies.bucket_name(customer), bucket_exists(endpoint.client("s3", customer.region), policies.bucket_name(customer))),
            ("iam group", name, exists(lambda: iam.get_group(GroupName=name))),
            ("iam user", name, exists(lambda: iam.get_user(UserName=name))),
        ]
        if customer.encryption is Encryption.sse_kms:
            planned.insert(0, ("kms key", f"alias/{name}", find_kms_alias(endpoint, customer) is not None))
        return [(kind, resource, "exists" if present else "create") for kind, resource, present in planned]

    def outputs(self, customer: Customer) -> StackOutputs:
        lost = gone(self.project, customer.stack)
        if lost:
            raise OffboardError(lost)
        endpoint = local_endpoint.running(self.endpoint_dir)
        outputs = self.stored(customer, endpoint)
        if outputs is None:
            raise NotProvisioned(f"stack {customer.stack} is not provisioned on the embedded endpoint: run `offboard stack up {customer.stack} --backend local`")
        return outputs

    def stored(self, customer: Customer, endpoint: local_endpoint.Endpoint) -> StackOutputs | None:
        """Outputs saved for this endpoint instance; those of an endpoint since stopped are void."""
        outputs = StackOutputs.load(self.project.stack_state_dir(customer.stack))
        return outputs if outputs and outputs.endpoint_instance == endpoint.instance else None

    def destroy(self, customer: Customer) -> None:
        """Remove what `up` made. A bucket that still holds objects is refused: teardown empties it."""
        endpoint = local_endpoint.running(self.endpoint_dir)
        s3, iam, name = endpoint.client("s3", customer.region), endpoint.client("iam"), policies.resource_name(customer)
        bucket = policies.bucket_name(customer)
        if bucket_exists(s3, bucket):
            listing = s3.list_object_versions(Bucket=bucket, MaxKeys=1)
            if listing.get("Versions") or listing.get("DeleteMarkers"):
                raise OffboardError(f"bucket {bucket} still holds objects; empty it first (teardown does)")
            s3.delete_bucket(Bucket=bucket)
        if exists(lambda: iam.get_user(UserName=name)):
            for key in iam.list_access_keys(UserName=name)["AccessKeyMetadata"]:
                iam.delete_access_key(UserName=name, AccessKeyId=key["AccessKeyId"])
            for group in iam.list_groups_for_user(UserName=name)["Groups"]:
                iam.remove_user_from_group(GroupName=group["GroupName"], UserName=name)
            iam.delete_user(UserName=name)
        if exists(lambda: iam.get_group(GroupName=name)):
            iam.delete_group_policy(GroupName=name, PolicyName=TRANSFER_POLICY_NAME)
            iam.delete_group(GroupName=name)
        alias = find_kms_alias(endpoint, customer)
        if alias:
            kms = endpoint.client("kms", customer.region)
            kms.delete_alias(AliasName=alias["AliasName"])
            kms.schedule_key_deletion(KeyId=alias["TargetKeyId"], PendingWindowInDays=customer.kms_deletion_window_days)
        StackOutputs.forget(self.project.stack_state_dir(customer.stack))


def gone(project: Project, stack: str) -> str | None:
    """One line when the stack's bucket went with the embedded endpoint it was made on (the
    endpoint keeps nothing across `offboard local stop`/`start`), else None. Read from the two
    records (the stack's outputs and the endpoint's), without a request: `fleet` asks it."""
    made = StackOutputs.recorded(project.stack_state_dir(stack))
    if made is None or made.endpoint_instance is None:
        return None
    now = local_endpoint.read_record(project.state_dir / "local")
    running = now is not None and local_endpoint.alive(now.pid)
    if running and now.instance == made.endpoint_instance:
        return None
    what, first = (f"restarted at {now.started.replace('T', ' ')}", "") if running else ("stopped", "`offboard local start`, then ")
    return (f"stack {stack}: its bucket {made.bucket} is gone (the embedded endpoint it was made on {what} and keeps "
            f"nothing): its deliveries are lost and its runbook cannot go on; run {first}`offboard stack up {stack}` for a "
            f"new, empty bucket and try the migration again with a new stack")


def ensure_kms_key(endpoint: local_endpoint.Endpoint, customer: Customer) -> str | None:
    if customer.encryption is not Encryption.sse_kms:
        return None
    kms = endpoint.client("kms", customer.region)
    alias = find_kms_alias(endpoint, customer)
    if alias:
        return kms.describe_key(KeyId=alias["TargetKeyId"])["KeyMetadata"]["Arn"]
    key = kms.create_key(
        Description=f"Transfer key of {customer.customer_name} (org {customer.org_id})",
        Tags=[{"TagKey": k, "TagValue": v} for k, v in policies.tags(customer).items()],
    )["KeyMetadata"]
    kms.enable_key_rotation(KeyId=key["KeyId"])
    kms.create_alias(AliasName=f"alias/{policies.resource_name(customer)}", TargetKeyId=key["KeyId"])
    return key["Arn"]


def find_kms_alias(endpoint: local_endpoint.Endpoint, customer: Customer) -> dict | None:
    wanted = f"alias/{policies.resource_name(customer)}"
    pages = endpoint.client("kms", customer.region).get_paginator("list_aliases").paginate()
    return next((alias for page in pages for alias in page["Aliases"] if alias["AliasName"] == wanted), None)


def ensure_bucket(endpoint: local_endpoint.Endpoint, customer: Customer, kms_key_arn: str | None) -> str:
    s3, bucket = endpoint.client("s3", customer.region), policies.bucket_name(customer)
    if not bucket_exists(s3, bucket):
        s3.create_bucket(Bucket=bucket, **policies.bucket_location(customer.region))
    s3.put_public_access_block(Bucket=bucket, PublicAccessBlockConfiguration=policies.public_access_block())
    s3.put_bucket_ownership_controls(Bucket=bucket, OwnershipControls=policies.ownership_controls())
    s3.put_bucket_encryption(Bucket=bucket, ServerSideEncryptionConfiguration=policies.encryption(customer, kms_key_arn))
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration=policies.versioning())
    s3.put_bucket_lifecycle_configuration(Bucket=bucket, LifecycleConfiguration=policies.lifecycle(customer))
    s3.put_bucket_tagging(Bucket=bucket, Tagging={"TagSet": [{"Key": k, "Value": v} for k, v in policies.tags(customer).items()]})
    return bucket


def ensure_identity(endpoint: local_endpoint.Endpoint, customer: Customer, transfer_policy: dict) -> str:
    """The customer's group with the transfer policy, and its user inside it; both share one name."""
    iam, name = endpoint.client("iam"), policies.resource_name(customer)
    if not exists(lambda: iam.get_group(GroupName=name)):
        iam.create_group(GroupName=name)
    iam.put_group_policy(GroupName=name, PolicyName=TRANSFER_POLICY_NAME, PolicyDocument=json.dumps(transfer_policy))
    if not exists(lambda: iam.get_user(UserName=name)):
        iam.create_user(UserName=name, Tags=[{"Key": k, "Value": v} for k, v in policies.tags(customer).items()])
    iam.add_user_to_group(GroupName=name, UserName=name)
    return name


def ensure_access_key(endpoint: local_endpoint.Endpoint, user: str, previous: StackOutputs | None) -> dict:
    """Keep the key already handed out; otherwise replace whatever keys the user has with one new key."""
    iam = endpoint.client("iam")
    keys = iam.list_access_keys(UserName=user)["AccessKeyMetadata"]
    if previous and any(key["AccessKeyId"] == previous.access_key_id for key in keys):
        return {
            "AccessKeyId": previous.access_key_id,
            "SecretAccessKey": previous.secret_access_key.get_secret_value(),
            "CreateDate": previous.access_key_created,
        }
    for key in keys:
        iam.delete_access_key(UserName=user, AccessKeyId=key["AccessKeyId"])
    key = iam.create_access_key(UserName=user)["AccessKey"]
    return {**key, "CreateDate": key["CreateDate"].isoformat()}


def bucket_exists(s3, bucket: str) -> bool:
    return exists(lambda: s3.head_bucket(Bucket=bucket))


def exists(call) -> bool:
    """True when the call succeeds, False when the resource is not there; other errors propagate."""
    try:
        call()
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") in {"404", "NoSuchEntity", "NoSuchBucket", "NotFound"}:
            return False
        raise
    return True

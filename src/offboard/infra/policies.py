"""The one definition of a customer's bucket, key and permissions, as pure functions.

Everything here is in the shape of the S3 and IAM APIs themselves (the JSON that boto3
sends), so the embedded backend applies it as is and the Pulumi program converts the
keys to its snake_case arguments (`pulumi_args`). Nothing here talks to a cloud.
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any

from offboard.customer import Customer, Encryption

NAME_PREFIX = "offboard"
S3_NAME_MAX = 63

# What the transfer needs, and nothing else: the customer's key lists and locates its own
# bucket, reads, writes and deletes objects there (multipart included). It cannot delete
# object versions, change bucket settings or policies, or see any other bucket.
BUCKET_ACTIONS = ["s3:GetBucketLocation", "s3:ListBucket", "s3:ListBucketMultipartUploads"]
OBJECT_ACTIONS = [
    "s3:AbortMultipartUpload",
    "s3:DeleteObject",
    "s3:GetObject",
    "s3:ListMultipartUploadParts",
    "s3:PutObject",
]
# SSE-KMS: writing asks KMS for a data key, reading (and completing multipart) decrypts it.
KMS_ACTIONS = ["kms:Decrypt", "kms:GenerateDataKey"]


def resource_name(customer: Customer, suffix: str = "") -> str:
    """`offboard-<stack>-<orgId>[-suffix]`: unique per customer, readable in every console."""
    return "-".join(part for part in (NAME_PREFIX, customer.stack, customer.org_id, suffix) if part)


def bucket_name(customer: Customer) -> str:
    """A valid S3 bucket name derived from stack and orgId; shortened with a hash if too long."""
    name = re.sub(r"[^a-z0-9-]", "-", resource_name(customer).lower())
    if len(name) <= S3_NAME_MAX:
        return name
    digest = hashlib.sha256(name.encode()).hexdigest()[:8]
    return f"{name[:S3_NAME_MAX - 9].rstrip('-')}-{digest}"


def bucket_arn(bucket: str) -> str:
    return f"arn:aws:s3:::{bucket}"


def tags(customer: Customer) -> dict[str, str]:
    return {"offboard:orgId": customer.org_id, "offboard:customer": customer.customer_name, "offboard:stack": customer.stack}


def bucket_location(region: str) -> dict[str, Any]:
    """CreateBucket's arguments for a region: us-east-1 is the one that takes none."""
    return {} if region == "us-east-1" else {"CreateBucketConfiguration": {"LocationConstraint": region}}


def public_access_block() -> dict[str, Any]:
    return {"BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": True, "RestrictPublicBuckets": True}


def ownership_controls() -> dict[str, Any]:
    """No ACLs: the bucket owner owns every object."""
    return {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}


def versioning() -> dict[str, Any]:
    return {"Status": "Enabled"}


def encryption(customer: Customer, kms_key_arn: str | None) -> dict[str, Any]:
    """Default encryption: the customer's own KMS key with a bucket key, or SSE-S3."""
    if customer.encryption is Encryption.sse_kms:
        default = {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": kms_key_arn}
        return {"Rules": [{"ApplyServerSideEncryptionByDefault": default, "BucketKeyEnabled": True}]}
    return {"Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]}


def lifecycle(customer: Customer) -> dict[str, Any]:
    """Abort forgotten multipart uploads; expire overwritten or deleted versions after the retention."""
    return {
        "Rules": [
            {
                "ID": "abort-incomplete-multipart-uploads",
                "Status": "Enabled",
                "Filter": {"Prefix": ""},
                "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": customer.abort_multipart_days},
            },
            {
                "ID": "expire-noncurrent-versions",
                "Status": "Enabled",
                "Filter": {"Prefix": ""},
                "NoncurrentVersionExpiration": {"NoncurrentDays": customer.noncurrent_version_days},
            },
        ]
    }


def tls_only_statement(bucket: str) -> dict[str, Any]:
    arn = bucket_arn(bucket)
    return {
        "Sid": "DenyInsecureTransport",
        "Effect": "Deny",
        "Principal": "*",
        "Action": "s3:*",
        "Resource": [arn, f"{arn}/*"],
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    }


def bucket_policy(bucket: str) -> dict[str, Any]:
    """The bucket policy: every request without TLS is denied."""
    return {"Version": "2012-10-17", "Statement": [tls_only_statement(bucket)]}


def transfer_policy(bucket: str, kms_key_arn: str | None) -> dict[str, Any]:
    """The customer's IAM policy (given to its group): this bucket, this key, the listed actions."""
    arn = bucket_arn(bucket)
    statements = [
        {"Sid": "LocateAndListTheBucket", "Effect": "Allow", "Action": BUCKET_ACTIONS, "Resource": arn},
        {"Sid": "ReadAndWriteObjects", "Effect": "Allow", "Action": OBJECT_ACTIONS, "Resource": f"{arn}/*"},
    ]
    if kms_key_arn:
        statements.append({"Sid": "UseTheCustomerKey", "Effect": "Allow", "Action": KMS_ACTIONS, "Resource": kms_key_arn})
    return {"Version": "2012-10-17", "Statement": statements}


# What the operator's own credentials do for every customer: provision and destroy the stacks
# (Pulumi, or the embedded backend), and empty a bucket at teardown, which the customer's key
# may not. Scoped by name to the project's resources, `offboard-*`; KMS cannot scope CreateKey,
# nor the keys before they exist, by name (an alias or tag condition would: add one for your
# account). Reads Pulumi's provider makes on a refresh are the `Get*` patterns.
OPERATOR_S3_BUCKET_ACTIONS = [
    "s3:CreateBucket", "s3:DeleteBucket", "s3:ListBucket", "s3:ListBucketVersions", "s3:ListBucketMultipartUploads",
    "s3:GetBucket*", "s3:PutBucket*", "s3:DeleteBucketPolicy", "s3:GetEncryptionConfiguration",
    "s3:PutEncryptionConfiguration", "s3:GetLifecycleConfiguration", "s3:PutLifecycleConfiguration",
    "s3:GetAccelerateConfiguration", "s3:GetReplicationConfiguration", "s3:GetAnalyticsConfiguration",
]
OPERATOR_S3_OBJECT_ACTIONS = ["s3:GetObject", "s3:GetObjectVersion", "s3:DeleteObject", "s3:DeleteObjectVersion",
                              "s3:AbortMultipartUpload"]
OPERATOR_IAM_ACTIONS = [
    "iam:CreateGroup", "iam:DeleteGroup", "iam:GetGroup", "iam:PutGroupPolicy", "iam:GetGroupPolicy",
    "iam:DeleteGroupPolicy", "iam:ListGroupPolicies", "iam:AddUserToGroup", "iam:RemoveUserFromGroup",
    "iam:CreateUser", "iam:DeleteUser", "iam:GetUser", "iam:TagUser", "iam:UntagUser", "iam:ListGroupsForUser",
    "iam:CreateAccessKey", "iam:DeleteAccessKey", "iam:ListAccessKeys",
]
OPERATOR_KMS_ACTIONS = [
    "kms:CreateKey", "kms:DescribeKey", "kms:EnableKeyRotation", "kms:GetKeyRotationStatus", "kms:GetKeyPolicy",
    "kms:ListResourceTags", "kms:TagResource", "kms:ScheduleKeyDeletion", "kms:CreateAlias", "kms:DeleteAlias",
    "kms:ListAliases", "kms:Decrypt", "kms:GenerateDataKey",
]


def operator_policy(account: str = "*") -> dict[str, Any]:
    """The IAM policy the operator's credentials need, for every customer's stack of `account` (a new
    document each time: callers may change it)."""
    buckets = bucket_arn(f"{NAME_PREFIX}-*")
    return {"Version": "2012-10-17", "Statement": [
        {"Sid": "CustomerBuckets", "Effect": "Allow", "Action": [*OPERATOR_S3_BUCKET_ACTIONS], "Resource": buckets},
        {"Sid": "CustomerObjects", "Effect": "Allow", "Action": [*OPERATOR_S3_OBJECT_ACTIONS], "Resource": f"{buckets}/*"},
        {"Sid": "CustomerUsersAndGroups", "Effect": "Allow", "Action": [*OPERATOR_IAM_ACTIONS], "Resource": [
            f"arn:aws:iam::{account}:user/{NAME_PREFIX}-*", f"arn:aws:iam::{account}:group/{NAME_PREFIX}-*"]},
        {"Sid": "CustomerKeys", "Effect": "Allow", "Action": [*OPERATOR_KMS_ACTIONS], "Resource": "*"},
    ]}


def to_json(document: dict[str, Any]) -> str:
    return json.dumps(document, sort_keys=True, separators=(",", ":"))


def pulumi_args(shape: Any) -> Any:
    """An S3-API shape with Pulumi's argument names: `KMSMasterKeyID` -> `kms_master_key_id`."""
    if isinstance(shape, dict):
        return {snake_case(key): pulumi_args(value) for key, value in shape.items()}
    if isinstance(shape, list):
        return [pulumi_args(value) for value in shape]
    return shape


def snake_case(name: str) -> str:
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", "_", name).lower()

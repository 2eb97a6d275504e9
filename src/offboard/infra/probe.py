"""Prove what a customer's key may and may not do, by trying it."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Callable

from botocore.exceptions import ClientError

from offboard.infra import policies
from offboard.infra.outputs import StackOutputs
from offboard.transfer.session import customer_s3, customer_session

PROBE_KEY = "offboard-probe/probe.txt"
REFUSED = {"AccessDenied", "403", "InvalidAccessKeyId", "InvalidClientTokenId", "SignatureDoesNotMatch"}
# Answers that come after authorization: the key was let in, there was just nothing there.
LET_IN = {"NoSuchKey", "NoSuchBucket", "404", "BucketAlreadyOwnedByYou", "BucketAlreadyExists"}


@dataclass(frozen=True)
class Check:
    action: str
    expected: bool  # True: the key must be allowed; False: it must be refused
    allowed: bool

    @property
    def ok(self) -> bool:
        return self.expected == self.allowed


def attempt(call: Callable[[], object]) -> bool:
    """True when AWS lets the call through, False when it refuses the key; other errors propagate."""
    try:
        call()
    except ClientError as error:
        code = error.response.get("Error", {}).get("Code")
        if code in REFUSED or code in LET_IN:
            return code in LET_IN
        raise
    return True


def key_checks(outputs: StackOutputs, neighbour_bucket: str) -> list[Check]:
    """Try the key on its own bucket (must work) and on everything else (must be refused)."""
    s3 = customer_s3(outputs)
    iam = customer_session(outputs).client("iam", endpoint_url=outputs.endpoint_url)
    own = outputs.bucket
    allowed = {
        "put an object in its bucket": lambda: s3.put_object(Bucket=own, Key=PROBE_KEY, Body=b"probe"),
        "list its bucket": lambda: s3.list_objects_v2(Bucket=own, Prefix="offboard-probe/"),
        "get an object from its bucket": lambda: s3.get_object(Bucket=own, Key=PROBE_KEY)["Body"].read(),
        "delete an object in its bucket": lambda: s3.delete_object(Bucket=own, Key=PROBE_KEY),
    }
    refused = {
        "list another customer's bucket": lambda: s3.list_objects_v2(Bucket=neighbour_bucket),
        "get from another customer's bucket": lambda: s3.get_object(Bucket=neighbour_bucket, Key=PROBE_KEY),
        "put into another customer's bucket": lambda: s3.put_object(Bucket=neighbour_bucket, Key=PROBE_KEY, Body=b"x"),
        "list all buckets": s3.list_buckets,
        "create a bucket": lambda: s3.create_bucket(Bucket=f"{own}-rogue", **policies.bucket_location(outputs.region)),
        "change its bucket's policy": lambda: s3.put_bucket_policy(Bucket=own, Policy=harmless_policy(own)),
        "create an IAM user": lambda: iam.create_user(UserName=f"{outputs.user}-rogue"),
    }
    checks = [Check(action, True, attempt(call)) for action, call in allowed.items()]
    return checks + [Check(action, False, attempt(call)) for action, call in refused.items()]


def harmless_policy(bucket: str) -> str:
    """A bucket policy that changes nothing if a too-broad key manages to set it."""
    statement = {"Effect": "Allow", "Principal": "*", "Action": "s3:GetBucketLocation", "Resource": policies.bucket_arn(bucket)}
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]})


def key_refused(outputs: StackOutputs) -> bool:
    """After teardown: the old key no longer opens anything."""
    return not attempt(lambda: customer_s3(outputs).list_objects_v2(Bucket=outputs.bucket, MaxKeys=1))

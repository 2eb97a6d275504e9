"""S3 clients that act with a customer's own scoped key, never with admin credentials."""

from __future__ import annotations

import boto3
from botocore.config import Config

from offboard.infra.outputs import StackOutputs

# Adaptive retries back off on throttling (503 SlowDown) and 5xx answers.
RETRIES = Config(retries={"max_attempts": 10, "mode": "adaptive"}, max_pool_connections=32)


def customer_session(outputs: StackOutputs) -> boto3.session.Session:
    return boto3.session.Session(
        aws_access_key_id=outputs.access_key_id,
        aws_secret_access_key=outputs.secret_access_key.get_secret_value(),
        region_name=outputs.region,
    )


def customer_s3(outputs: StackOutputs):
    """An S3 client holding the customer's key, on AWS or on the embedded endpoint."""
    return customer_session(outputs).client("s3", endpoint_url=outputs.endpoint_url, config=RETRIES)

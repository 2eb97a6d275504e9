"""The deliveries in a customer's bucket: which are committed, their manifests, what comes next."""

from __future__ import annotations

from botocore.exceptions import ClientError

from offboard.errors import OffboardError
from offboard.delivery import delivery_name, delivery_number, delivery_prefixes
from offboard.files.layout import manifest_key
from offboard.files.manifest import Manifest, parse_manifest


def read_manifest(s3, bucket: str, delivery: str, org_id: str) -> Manifest | None:
    """The committed manifest of a delivery, or None while the delivery is not committed."""
    key = manifest_key(delivery)
    try:
        body = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") in {"NoSuchKey", "404"}:
            return None
        raise
    manifest = parse_manifest(body, f"s3://{bucket}/{key}")
    if manifest.org_id != org_id or manifest.delivery != delivery:
        raise OffboardError(f"s3://{bucket}/{key} is delivery {manifest.delivery} of org {manifest.org_id}, not {delivery} of org {org_id}")
    return manifest


def required_manifest(s3, bucket: str, delivery: str, org_id: str) -> Manifest:
    manifest = read_manifest(s3, bucket, delivery, org_id)
    if manifest is None:
        raise OffboardError(f"delivery {delivery} is not committed in bucket {bucket}: its export has not finished")
    return manifest


def committed_manifests(s3, bucket: str, org_id: str, through: str | None = None) -> list[Manifest]:
    """The committed manifests in order, up to `through` (all when None); a gap is an error."""
    last = delivery_number(through) if through else None
    manifests = []
    for name in delivery_prefixes(s3, bucket):
        if last is not None and delivery_number(name) > last:
            break
        manifest = read_manifest(s3, bucket, name, org_id)
        if manifest is not None:
            manifests.append(manifest)
    numbers = [delivery_number(m.delivery) for m in manifests]
    if numbers != list(range(len(numbers))):
        missing = next(delivery_name(n) for n in range(len(numbers) + 1) if n not in numbers)
        raise OffboardError(f"bucket {bucket}: delivery {missing} is not committed but later ones are")
    if through and (not numbers or numbers[-1] != last):
        raise OffboardError(f"delivery {through} is not committed in bucket {bucket}: export it first")
    return manifests


def earlier_manifests(s3, bucket: str, org_id: str, delivery: str) -> list[Manifest]:
    """What a delta compares against: every delivery before it, all committed."""
    number = delivery_number(delivery)
    return committed_manifests(s3, bucket, org_id, through=delivery_name(number - 1)) if number else []


def resolve_delivery(s3, bucket: str, org_id: str, requested: str) -> str:
    """`initial`, `delta` (the next delta: the one unfinished, or a new one) or an explicit `delta-N`."""
    if requested != "delta":
        delivery_number(requested)
        return requested
    committed = [m.delivery for m in committed_manifests(s3, bucket, org_id)]
    if not committed:
        raise OffboardError(f"bucket {bucket} holds no committed initial delivery: export the initial delivery first")
    return delivery_name(delivery_number(committed[-1]) + 1)

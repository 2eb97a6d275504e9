"""The deliveries in a customer's bucket: which are committed, their manifests, what comes next."""

from __future__ import annotations

import io

from botocore.exceptions import ClientError

from offboard.delivery import delivery_name, delivery_number, delivery_prefixes
from offboard.errors import OffboardError
from offboard.files.download import ObjectStream
from offboard.files.index import FileIndex, Manifest
from offboard.files.layout import manifest_key
from offboard.files.manifest import UNUSABLE

MAX_MANIFEST_BYTES = 4 << 30  # ~150 bytes a file: over 25 million files; read as a stream, it costs disk, not memory
READ_BUFFER = 1 << 20


def manifest_head(s3, bucket: str, delivery: str) -> dict | None:
    """The manifest object's metadata (size, ETag, LastModified), or None while the delivery is not committed."""
    try:
        return s3.head_object(Bucket=bucket, Key=manifest_key(delivery))
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") in {"NoSuchKey", "404"}:
            return None
        raise


class _Raw(io.RawIOBase):
    """An object stream as the raw layer of a buffered reader (which gives `readline`)."""

    def __init__(self, stream: ObjectStream) -> None:
        self.stream = stream

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        data = self.stream.read(len(buffer))
        buffer[:len(data)] = data
        return len(data)


def read_manifest(s3, bucket: str, delivery: str, org_id: str, index: FileIndex, head: dict | None = None) -> Manifest | None:
    """The committed manifest of a delivery read into `index`, or None while the delivery is not committed."""
    head = head or manifest_head(s3, bucket, delivery)
    if head is None:
        return None
    key = manifest_key(delivery)
    where = f"s3://{bucket}/{key}"
    if head["ContentLength"] > MAX_MANIFEST_BYTES:
        raise OffboardError(f"{where} is larger than {MAX_MANIFEST_BYTES >> 20} MiB; {UNUSABLE}")
    stream = ObjectStream(s3, bucket, key, head["ContentLength"], head["ETag"])
    try:
        return index.load(io.BufferedReader(_Raw(stream), READ_BUFFER), where, org_id, delivery, MAX_MANIFEST_BYTES)
    finally:
        stream.close()


def required_manifest(s3, bucket: str, delivery: str, org_id: str, index: FileIndex) -> Manifest:
    manifest = read_manifest(s3, bucket, delivery, org_id, index)
    if manifest is None:
        raise OffboardError(f"delivery {delivery} is not committed in bucket {bucket}: its export has not finished")
    return manifest


def committed_deliveries(s3, bucket: str, through: str | None = None) -> list[str]:
    """The committed deliveries' names in order, up to `through` (all when None); a gap is an error."""
    last = delivery_number(through) if through else None
    names = [name for name in delivery_prefixes(s3, bucket)
             if (last is None or delivery_number(name) <= last) and manifest_head(s3, bucket, name) is not None]
    numbers = [delivery_number(name) for name in names]
    if numbers != list(range(len(numbers))):
        missing = next(delivery_name(n) for n in range(len(numbers) + 1) if n not in numbers)
        raise OffboardError(f"bucket {bucket}: delivery {missing} is not committed but later ones are")
    if through and (not numbers or numbers[-1] != last):
        raise OffboardError(f"delivery {through} is not committed in bucket {bucket}: export it first")
    return names


def committed_manifests(s3, bucket: str, org_id: str, index: FileIndex, through: str | None = None) -> list[Manifest]:
    """The committed manifests in order, up to `through` (all when None), read into `index`."""
    return [required_manifest(s3, bucket, name, org_id, index) for name in committed_deliveries(s3, bucket, through)]


def earlier_manifests(s3, bucket: str, org_id: str, delivery: str, index: FileIndex) -> list[Manifest]:
    """What a delta compares against: every delivery before it, all committed."""
    number = delivery_number(delivery)
    return committed_manifests(s3, bucket, org_id, index, through=delivery_name(number - 1)) if number else []


def resolve_delivery(s3, bucket: str, requested: str) -> str:
    """`initial`, `delta` (the next delta: the one unfinished, or a new one) or an explicit `delta-N`."""
    if requested != "delta":
        delivery_number(requested)
        return requested
    committed = committed_deliveries(s3, bucket)
    if not committed:
        raise OffboardError(f"bucket {bucket} holds no committed initial delivery: export the initial delivery first")
    return delivery_name(delivery_number(committed[-1]) + 1)

"""What a module of a handover folder imports on IBM's side: its header, the key, and how it runs.

`offboard runbook handover` (offboard.runbook.handover) writes a folder for IBM: one module per
export step, the customer's stack file in which IBM fills in its own `offboard:source`, and the
catalog. IBM runs a module there with the bucket's key from the S3 access information the MSP
put into the Box folder (`--access-info FILE`); it calls the same export stage as the MSP's own
modules do. No MSP journal, backend or state is needed: the folder is the project.
"""

from __future__ import annotations

import argparse
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Mapping

from offboard.customer import Side, load_customer
from offboard.db.stages import CATALOG
from offboard.errors import OffboardError, one_line_on_error
from offboard.files.hashing import sha256_file
from offboard.infra.policies import bucket_name
from offboard.masking import register_secret
from offboard.project import Project, read_utf8
from offboard.runtime import Runtime

ACCESS_INFO_VARIABLE = "OFFBOARD_ACCESS_INFO"  # where --access-info is read from when not given
ACCESS_FIELDS = {"Bucket": "bucket", "Region": "region", "Endpoint URL": "endpoint_url",
                 "Access key id": "access_key_id", "Secret access key": "secret_access_key"}
ACCESS_LINE = re.compile(rf"^({'|'.join(ACCESS_FIELDS)}):[ \t]+(\S+)[ \t]*$", re.MULTILINE)

Export = Callable[[Runtime, Side], Mapping[str, Any]]


@dataclass(frozen=True)
class HandedOver:
    """The header of a handed-over module: which step, and what it must find on IBM's side."""

    stack: str
    workflow: str
    step: str
    org_id: str
    bucket: str
    catalog_sha256: str  # the MSP's catalog: the import refuses a delivery of any other


@dataclass(frozen=True)
class AccessInfo:
    """The bucket's key, as the S3 access information file of the Box folder gives it."""

    bucket: str
    region: str
    access_key_id: str
    secret_access_key: str
    endpoint_url: str | None = None  # only on the embedded endpoint of a demo

    def s3(self):
        import boto3  # the transfer's libraries load only when a module runs

        from offboard.transfer.session import RETRIES

        session = boto3.session.Session(aws_access_key_id=self.access_key_id, aws_secret_access_key=self.secret_access_key,
                                        region_name=self.region)
        return session.client("s3", endpoint_url=self.endpoint_url, config=RETRIES)


def read_access_info(path: Path) -> AccessInfo:
    """The key from the access information file (`offboard stack access-info` writes it for the Box folder)."""
    found = {ACCESS_FIELDS[label]: value for label, value in ACCESS_LINE.findall(read_utf8(path, str(path)))}
    missing = [label for label, field in ACCESS_FIELDS.items() if field not in found and field != "endpoint_url"]
    if missing:
        raise OffboardError(f"{path} gives no {', '.join(missing)}: give the S3 access information file of the Box folder")
    register_secret(found["secret_access_key"])  # no message of this process shows it
    return AccessInfo(**found)


@dataclass(frozen=True)
class KeyedRuntime(Runtime):
    """A stage's runtime on IBM's side: the bucket is reached with the key of the access information."""

    access: AccessInfo | None = None

    def s3(self, bucket: str):
        if self.access is None or self.access.bucket != bucket:
            raise OffboardError(f"the access information is for bucket {self.access.bucket if self.access else 'none'}, "
                                f"not {bucket}: give the file of this customer's Box folder")
        return self.access.s3()


def prepared(header: HandedOver, folder: Path, access_info: Path, dry_run: bool) -> tuple[KeyedRuntime, Side]:
    """The runtime and source side a module runs with, once the folder is still as handed over."""
    project = Project(root=folder, state_dir=folder / ".offboard")
    catalog = project.runbooks_dir / CATALOG
    if not catalog.is_file() or sha256_file(catalog) != header.catalog_sha256:
        raise OffboardError(f"{project.shown(catalog)} is not the catalog the MSP handed over: "
                            "ask the MSP for the handover folder again")
    customer = load_customer(project, header.stack)
    if (customer.org_id, bucket_name(customer)) != (header.org_id, header.bucket):
        raise OffboardError(f"stacks/Pulumi.{header.stack}.yaml is for org {customer.org_id}, not {header.org_id}: "
                            "change only its offboard:source")
    if customer.source is None:
        raise OffboardError(f"fill in offboard:source in {project.shown(project.stack_file(header.stack))} "
                            "(INSTRUCTIONS.md, step 2)")
    access = read_access_info(access_info)
    runtime = KeyedRuntime(project, header.stack, None, dry_run=dry_run, access=access)
    runtime.s3(header.bucket)  # refused now, before the source is read, if the key is another bucket's
    return runtime, customer.source


def main(header: HandedOver, export: Export, module_file: str) -> None:
    """`python <step>.py --access-info FILE [--dry-run]`: the export; its figures as JSON, or one line."""
    parser = argparse.ArgumentParser(description=f"IBM's side of step {header.step} of the {header.workflow} delivery "
                                                 f"of org {header.org_id}: the export into bucket {header.bucket}.")
    parser.add_argument("--access-info", type=Path, default=os.environ.get(ACCESS_INFO_VARIABLE),
                        help=f"The S3 access information file of the Box folder (default: ${ACCESS_INFO_VARIABLE}).")
    parser.add_argument("--dry-run", action="store_true", help="Say what the export would send; change nothing.")
    options = parser.parse_args()
    with one_line_on_error(header.step):
        if options.access_info is None:
            raise OffboardError(f"give --access-info FILE (or set {ACCESS_INFO_VARIABLE}): the S3 access information of the Box folder")
        runtime, source = prepared(header, Path(module_file).resolve().parent, options.access_info, options.dry_run)
        figures = dict(export(runtime, source))
    print(json.dumps(figures, indent=2, default=str))

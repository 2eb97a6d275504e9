"""The embedded S3/IAM endpoint: moto's server on 127.0.0.1 with IAM enforcement on.

It runs inside this process (tests, the demo) or as a background process that separate CLI
calls share (`offboard local start|stop`). Either way it is described by one 0600 record in
the state folder, holding its URL and the admin key made when it started.

IAM enforcement: moto authorizes nothing until INITIAL_NO_AUTH_ACTION_COUNT requests have
been served. Rather than depend on that variable being set before moto is imported, the
endpoint resets the count through moto's own `/moto-api/reset-auth` to exactly the three
unsigned requests that create the admin user, its policy and its key; it then proves that
an unknown key is refused, and stops if it is not.
"""

from __future__ import annotations

import functools
import json
import logging
import os
import signal
import subprocess
import sys
import time
import urllib.request
import uuid
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterator

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from offboard.errors import OffboardError
from offboard.project import write_private

RECORD = "endpoint.json"
LOG = "endpoint.log"
HOST = "127.0.0.1"
ADMIN_USER = "offboard-admin"
ADMIN_POLICY = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
BOOTSTRAP_REQUESTS = 3  # CreateUser, PutUserPolicy, CreateAccessKey
START_TIMEOUT = 60.0


@dataclass(frozen=True)
class Endpoint:
    url: str
    instance: str
    admin_key_id: str
    admin_secret: str
    pid: int
    started: str = ""  # when it started (UTC, ISO): a stack made on an earlier start is gone with it

    def client(self, service: str, region: str = "us-east-1", key_id: str | None = None, secret: str | None = None):
        """A client on this endpoint: the admin's unless another key is given."""
        return client(self.url, service, region, key_id or self.admin_key_id, secret or self.admin_secret)

    def save(self, folder: Path) -> None:
        write_private(folder / RECORD, json.dumps(asdict(self), indent=2))


@functools.cache
def client(url: str, service: str, region: str, key_id: str, secret: str):
    """Cached: making a boto3 client costs a tenth of a second, the calls on it a few ms."""
    session = boto3.session.Session(aws_access_key_id=key_id, aws_secret_access_key=secret, region_name=region)
    return session.client(service, endpoint_url=url, config=Config(retries={"max_attempts": 3, "mode": "standard"}))


def serve_in_thread():
    """moto's threaded server on a free loopback port; returns the server and its URL."""
    from moto.server import ThreadedMotoServer  # imported late: moto is heavy

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # not a line per request
    server = ThreadedMotoServer(ip_address=HOST, port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    return server, f"http://{host}:{port}"


def bootstrap(url: str) -> Endpoint:
    """Turn enforcement on, create the admin key with the only unsigned requests, prove it."""
    post = urllib.request.Request(
        f"{url}/moto-api/reset-auth", data=str(BOOTSTRAP_REQUESTS).encode(), method="POST",
        headers={"Content-Type": "text/plain"},  # a form type would leave moto an empty body
    )
    urllib.request.urlopen(post, timeout=10).read()
    unsigned = boto3.session.Session(aws_access_key_id="bootstrap", aws_secret_access_key="bootstrap", region_name="us-east-1")
    iam = unsigned.client("iam", endpoint_url=url)
    iam.create_user(UserName=ADMIN_USER)
    iam.put_user_policy(UserName=ADMIN_USER, PolicyName="admin", PolicyDocument=json.dumps(ADMIN_POLICY))
    key = iam.create_access_key(UserName=ADMIN_USER)["AccessKey"]
    started = datetime.now(timezone.utc).isoformat(timespec="seconds")
    endpoint = Endpoint(url, uuid.uuid4().hex, key["AccessKeyId"], key["SecretAccessKey"], os.getpid(), started)
    prove_enforced(endpoint)
    return endpoint


def prove_enforced(endpoint: Endpoint) -> None:
    try:
        endpoint.client("s3", key_id="unknown-key-probe", secret="x" * 40).list_buckets()
    except ClientError:
        return
    raise OffboardError(f"the embedded endpoint at {endpoint.url} accepted an unknown key: IAM is not enforced")


@contextmanager
def embedded(folder: Path) -> Iterator[Endpoint]:
    """An endpoint inside this process for as long as the block runs; its record lives in `folder`.

    moto keeps its state in module globals, so one process holds one endpoint at a time.
    """
    server, url = serve_in_thread()
    try:
        endpoint = bootstrap(url)
        endpoint.save(folder)
        yield endpoint
    finally:
        (folder / RECORD).unlink(missing_ok=True)
        server.stop()


def start(folder: Path) -> Endpoint:
    """Start a background endpoint that outlives this command; reuse one that already runs."""
    current = find(folder)
    if current:
        return current
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / LOG, "ab") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "offboard.infra.endpoint", str(folder)],
            stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True,
        )
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise OffboardError(f"the embedded endpoint exited at start; see {folder / LOG}")
        endpoint = find(folder)
        if endpoint and endpoint.pid == process.pid:
            return endpoint
        time.sleep(0.1)
    process.terminate()
    raise OffboardError(f"the embedded endpoint did not start within {START_TIMEOUT:.0f} s; see {folder / LOG}")


def stop(folder: Path) -> bool:
    """Stop the background endpoint; False when none was running."""
    endpoint = find(folder)
    if endpoint is None:
        return False
    os.kill(endpoint.pid, signal.SIGTERM)
    deadline = time.monotonic() + 10
    while alive(endpoint.pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    (folder / RECORD).unlink(missing_ok=True)
    return True


def read_record(folder: Path) -> Endpoint | None:
    """The endpoint recorded in `folder`, asked nothing: its process may be gone."""
    try:
        return Endpoint(**json.loads((folder / RECORD).read_text(encoding="utf-8")))
    except (FileNotFoundError, json.JSONDecodeError, TypeError):
        return None


def find(folder: Path) -> Endpoint | None:
    """The endpoint recorded in `folder` if it still answers; a stale record is removed."""
    endpoint = read_record(folder)
    if endpoint is None:
        return None
    if alive(endpoint.pid) and answers(endpoint.url):
        return endpoint
    (folder / RECORD).unlink(missing_ok=True)
    return None


def running(folder: Path) -> Endpoint:
    endpoint = find(folder)
    if endpoint is None:
        raise OffboardError("no embedded endpoint is running: start one with `offboard local start`")
    return endpoint


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def answers(url: str) -> bool:
    try:
        urllib.request.urlopen(f"{url}/moto-api/config", timeout=5).close()
    except OSError:
        return False
    return True


def main(folder: str) -> None:
    """The background process: serve until SIGTERM, then remove the record."""
    stopping = []
    signal.signal(signal.SIGTERM, lambda *_: stopping.append(True))
    with embedded(Path(folder)):
        while not stopping:
            time.sleep(0.2)


if __name__ == "__main__":
    main(sys.argv[1])

"""Reading an S3 object front to back through one GET, without holding it in memory.

One stream per archive, several archives at once: ranged GETs in parallel would also work on
S3, but an endpoint that reads the whole object for every range (moto's does) turns them
quadratic. Request errors, throttling included, are retried by the client; a body that
breaks off while it is read is resumed here with a ranged GET from where it stopped, pinned
to the same object version by its ETag.
"""

from __future__ import annotations

import time

from botocore.exceptions import IncompleteReadError, ReadTimeoutError, ResponseStreamingError

from offboard.files.hashing import CHUNK

BODY_ATTEMPTS = 5


class ObjectStream:
    def __init__(self, s3, bucket: str, key: str, size: int, etag: str) -> None:
        self.s3, self.bucket, self.key, self.size, self.etag = s3, bucket, key, size, etag
        self.offset = 0
        self.body = None

    def read(self, size: int = -1) -> bytes:
        attempt = 1
        while self.offset < self.size:
            try:
                if self.body is None:
                    self.body = self._open()
                data = self.body.read(size if size >= 0 else CHUNK)
                self.offset += len(data)
                return data
            except (IncompleteReadError, ReadTimeoutError, ResponseStreamingError):
                self.close()
                if attempt == BODY_ATTEMPTS:
                    raise
                time.sleep(0.2 * 2**attempt)
                attempt += 1
        return b""

    def _open(self):
        ranged = {"Range": f"bytes={self.offset}-"} if self.offset else {}
        return self.s3.get_object(Bucket=self.bucket, Key=self.key, IfMatch=self.etag, **ranged)["Body"]

    def close(self) -> None:
        if self.body is not None:
            self.body.close()
            self.body = None

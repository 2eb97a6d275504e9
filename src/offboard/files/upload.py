"""Streaming one archive into S3: a writable stream whose parts upload in parallel.

The archives in flight share one pool of upload threads and one set of part buffers: a writer
fills a buffer, hands it to a thread, and takes the next free one, waiting when none is free.
So memory holds at most `parts_in_flight + archives_in_flight` parts whatever the tree's size,
and the buffers are reused rather than allocated per part. An archive smaller than one part
is a single PUT. Throttling and 5xx answers are retried by the client (adaptive mode); a part
that still fails fails its archive.
"""

from __future__ import annotations

import hashlib
import queue
import threading
from concurrent.futures import Future, ThreadPoolExecutor

from botocore.exceptions import BotoCoreError, ClientError


class PartPool:
    def __init__(self, parts_in_flight: int, archives_in_flight: int) -> None:
        self.executor = ThreadPoolExecutor(parts_in_flight, thread_name_prefix="part")
        self.free: queue.SimpleQueue[bytearray] = queue.SimpleQueue()
        self.unmade = parts_in_flight + archives_in_flight  # buffers not allocated yet
        self._lock = threading.Lock()

    def take(self, size: int) -> bytearray:
        """A free buffer of `size` bytes, waiting for one while all are in use."""
        with self._lock:
            make = self.free.empty() and self.unmade > 0
            self.unmade -= make
        buffer = bytearray(size) if make else self.free.get()
        return buffer if len(buffer) == size else bytearray(size)  # a larger part size: rare, huge archives

    def give(self, buffer: bytearray) -> None:
        self.free.put(buffer)

    def __enter__(self) -> PartPool:
        return self

    def __exit__(self, *exc) -> None:
        self.executor.shutdown(wait=True, cancel_futures=True)


class ArchiveUpload:
    """Write the archive's bytes, then `finish()` (size, sha256) or `abort()`; `tell()` serves tarfile."""

    def __init__(self, s3, bucket: str, key: str, part_size: int, parts: PartPool) -> None:
        self.s3, self.bucket, self.key, self.part_size, self.parts = s3, bucket, key, part_size, parts
        self.sha256 = hashlib.sha256()
        self.size = 0
        self.buffer: bytearray | None = None
        self.filled = 0
        self.upload_id: str | None = None
        self.sent: list[Future] = []

    def write(self, data: bytes) -> int:
        self.sha256.update(data)
        self.size += len(data)
        view = memoryview(data)
        while view:
            if self.buffer is None:
                self.buffer, self.filled = self.parts.take(self.part_size), 0
            count = min(len(view), self.part_size - self.filled)
            self.buffer[self.filled:self.filled + count] = view[:count]
            self.filled += count
            view = view[count:]
            if self.filled == self.part_size:
                self._send()
        return len(data)

    def tell(self) -> int:
        return self.size

    def _send(self) -> None:
        if self.upload_id is None:
            self.upload_id = self.s3.create_multipart_upload(Bucket=self.bucket, Key=self.key)["UploadId"]
        buffer, filled, self.buffer = self.buffer, self.filled, None
        self.sent.append(self.parts.executor.submit(self._upload_part, len(self.sent) + 1, buffer, filled))

    def _upload_part(self, number: int, buffer: bytearray, filled: int) -> dict:
        try:
            body = buffer if filled == len(buffer) else bytes(memoryview(buffer)[:filled])
            answer = self.s3.upload_part(Bucket=self.bucket, Key=self.key, UploadId=self.upload_id, PartNumber=number, Body=body)
        finally:
            self.parts.give(buffer)
        return {"PartNumber": number, "ETag": answer["ETag"]}

    def finish(self) -> tuple[int, str]:
        if self.upload_id is None:
            body = bytes(memoryview(self.buffer)[:self.filled]) if self.buffer is not None else b""
            self._release()
            self.s3.put_object(Bucket=self.bucket, Key=self.key, Body=body)
        else:
            if self.buffer is not None:
                self._send()
            parts = [future.result() for future in self.sent]
            self.s3.complete_multipart_upload(Bucket=self.bucket, Key=self.key, UploadId=self.upload_id,
                                              MultipartUpload={"Parts": parts})
        return self.size, self.sha256.hexdigest()

    def _release(self) -> None:
        if self.buffer is not None:
            self.parts.give(self.buffer)
            self.buffer = None

    def abort(self) -> None:
        """Give up: let the parts already handed over finish (each gives its buffer back), then drop the upload."""
        self._release()
        for future in self.sent:
            future.exception()
        if self.upload_id is not None:
            try:
                self.s3.abort_multipart_upload(Bucket=self.bucket, Key=self.key, UploadId=self.upload_id)
            except (BotoCoreError, ClientError):
                pass  # a rerun aborts what is left under the delivery's prefix; so does the bucket's lifecycle

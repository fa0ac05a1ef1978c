"""Collect what the student's code prints, keeping only its head and tail."""

from __future__ import annotations

import os
import threading


class OutputCollector(threading.Thread):
    """Drains one worker's stdout/stderr pipe, keeping `keep_bytes` of head and of tail.

    Draining never stops, so a submission printing without end cannot block
    on a full pipe, and memory stays bounded whatever it prints.
    """

    def __init__(self, fd: int, keep_bytes: int):
        super().__init__(daemon=True, name="gradecheck-output")
        self.fd = fd
        self.keep = keep_bytes
        self.head = bytearray()
        self.tail = bytearray()
        self.total = 0
        self._lock = threading.Lock()

    def run(self) -> None:
        try:
            while True:
                try:
                    chunk = os.read(self.fd, 1 << 16)
                except InterruptedError:
                    continue
                except OSError:
                    break
                if not chunk:
                    break
                with self._lock:
                    self._add(chunk)
        finally:
            os.close(self.fd)

    def _add(self, chunk: bytes) -> None:
        self.total += len(chunk)
        room = self.keep - len(self.head)
        if room > 0:
            self.head += chunk[:room]
            chunk = chunk[room:]
        if chunk:
            self.tail += chunk
            del self.tail[: max(0, len(self.tail) - self.keep)]

    def text(self) -> str:
        """The kept output, with a marker where the middle was dropped."""
        with self._lock:
            head = self.head.decode("utf-8", "replace")
            tail = self.tail.decode("utf-8", "replace")
            dropped = self.total - len(self.head) - len(self.tail)
        if dropped > 0:
            return f"{head}\n... [{dropped} bytes of output dropped] ...\n{tail}"
        return head + tail

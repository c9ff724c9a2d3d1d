"""Follow a growing log file by byte offset: new bytes, truncation, rotation, deletion, NUL holes.

The :class:`Tailer` is synchronous and pure (no threads, no timers): each :meth:`Tailer.poll`
checks the path's identity and the open file's size and fingerprints itself, so it is correct
whatever woke the caller (an inotify hint, a poll timer or a test loop).
"""

from __future__ import annotations

import errno
import os
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

__all__ = [
    "HEAD_FINGERPRINT_BYTES",
    "Chunk",
    "Reset",
    "ResetReason",
    "NotAFile",
    "TailError",
    "TailItem",
    "TailState",
    "Tailer",
]

HEAD_FINGERPRINT_BYTES = 4096
"""How many leading bytes (at most) are remembered to catch a truncate-and-rewrite."""

TAIL_FINGERPRINT_BYTES = 64
"""How many bytes before the read offset are remembered: a restarted run often rewrites the
very same banner (identical first 4 KiB), but the bytes around our offset then differ."""

DEFAULT_CHUNK_SIZE = 1 << 20
"""Bytes read per ``pread`` call, and the maximum size of one :class:`Chunk` item."""

NUL_HOLDBACK_BYTES = 64 << 10
"""A run of NUL bytes at most this long at the end of the file is left unread until it is
overwritten or followed by more data (see :meth:`Tailer._drain`)."""

DEFAULT_MAX_POLL_BYTES = 4 << 20
"""Bytes returned by one :meth:`Tailer.poll` at most, so a huge existing file is handed on in
bounded batches (see :attr:`Tailer.behind`); 4 MiB keeps the catch-up of `tail` near the
memory of a one-shot `report`."""

ResetReason = Literal["truncated", "rotated", "deleted", "recreated"]
TailState = Literal["waiting", "following", "deleted", "unreadable", "directory", "not_regular"]

# Errors that mean "the path (or a directory on it) is not there (yet)".
_MISSING_ERRNOS = frozenset({errno.ENOENT, errno.ENOTDIR})
# Errors on an open handle meaning the file behind it is gone (NFS stale handle) or broken.
_HANDLE_LOST_ERRNOS = frozenset({errno.ESTALE, errno.EIO, errno.EBADF, errno.ENXIO})


class TailError(Exception):
    """The path cannot be tailed at all (a directory, not a regular file, unreadable at start).

    ``str(error)`` is a one-line message meant for ``trainmon: <message>`` on stderr.
    """


class NotAFile(TailError):
    """The path names a directory or another file that is not a regular file.

    At start it is an error (the user gave a wrong path); once following, the path was replaced
    under us, and the tailer waits for a regular file to take the name again.

    Attributes:
        state: ``"directory"`` or ``"not_regular"`` (a FIFO, a socket, a device).
    """

    def __init__(self, message: str, state: TailState) -> None:
        super().__init__(message)
        self.state = state


@dataclass(frozen=True, slots=True)
class Chunk:
    """New bytes of the current stream.

    Attributes:
        offset: byte offset in the current file of the first byte of this chunk, before NUL
            bytes were dropped.
        payload: the bytes read (at most ``chunk_size`` bytes, never empty), NUL bytes
            removed; a chunk that was all NULs is not emitted at all.
        end: byte offset in the current file just past the bytes this chunk covers, the NUL
            bytes dropped from it included (``-1``: ``offset + len(payload)``).
    """

    offset: int
    payload: bytes
    end: int = -1


@dataclass(frozen=True, slots=True)
class Reset:
    """Something happened to the file; see :attr:`new_stream` for what the consumer must do.

    Attributes:
        reason: ``"truncated"`` (size shrank or already-read bytes changed: the file was
            rewritten from the start), ``"rotated"`` (the path now names another file; the old
            one was drained first), ``"deleted"`` (the path is gone, but the open handle is
            still followed: a writer holding it keeps writing and we keep reading),
            ``"recreated"`` (after deletion the path names a new file, read from offset 0).
    """

    reason: ResetReason

    @property
    def new_stream(self) -> bool:
        """True when the following Chunk starts a new byte stream (parser must be reset).

        ``"deleted"`` is only a notice: the same handle is read on at the same offset, so a
        record split across the moment of deletion must not be thrown away.
        """
        return self.reason != "deleted"


TailItem = Chunk | Reset
"""What :meth:`Tailer.poll` returns, in stream order."""


def _identity(st: os.stat_result) -> tuple[int, int]:
    return (st.st_dev, st.st_ino)


class Tailer:
    """Follow one log file by byte offset, read-only (``O_RDONLY``, no locks, no writes).

    Args:
        path: the log file. It may not exist yet (nor its directory): it is waited for and read
            from offset 0 when it appears.
        from_end: start at the current end of the file if it exists now (skip its history).
        chunk_size: bytes per ``pread`` and maximum size of one :class:`Chunk` (bytes, > 0).
        max_poll_bytes: bytes returned by one :meth:`poll` at most (bytes); when more is
            available, :attr:`behind` is true and the caller should poll again at once.

    Raises:
        TailError: the path is a directory or not a regular file, or exists but cannot be
            opened for reading (permission denied, ...).
        ValueError: ``chunk_size`` or ``max_poll_bytes`` is not positive.
    """

    def __init__(
        self,
        path: str | Path,
        *,
        from_end: bool = False,
        chunk_size: int = DEFAULT_CHUNK_SIZE,
        max_poll_bytes: int = DEFAULT_MAX_POLL_BYTES,
    ) -> None:
        if chunk_size <= 0:
            raise ValueError(f"chunk_size must be positive, got {chunk_size}")
        if max_poll_bytes <= 0:
            raise ValueError(f"max_poll_bytes must be positive, got {max_poll_bytes}")
        self._path = Path(path)
        self._chunk_size = chunk_size
        self._max_poll_bytes = max(max_poll_bytes, chunk_size)
        self._fd: int | None = None
        self._ident: tuple[int, int] | None = None
        self._offset = 0
        self._size = 0
        self._mtime = 0.0
        self._dir_missing = False
        self._head = b""
        self._tail = b""
        self._state: TailState = "waiting"
        # True once any file was opened: a later (re)appearance is then a new stream.
        self._had_file = False
        self._behind = False
        self._open_initial(from_end)

    # -- public properties ---------------------------------------------------------------

    @property
    def path(self) -> Path:
        """The followed path, as given."""
        return self._path

    @property
    def state(self) -> TailState:
        """``"waiting"`` (no file yet), ``"following"``, ``"deleted"`` (path gone, following the
        open handle), ``"unreadable"`` (permission lost on reopen; retried on every poll), or
        ``"directory"`` / ``"not_regular"`` (the path was replaced by a directory, a FIFO...:
        the old handle is read on and a regular file at the path is waited for)."""
        return self._state

    @property
    def offset(self) -> int:
        """Byte offset of the next byte to read in the current file."""
        return self._offset

    @property
    def dir_missing(self) -> bool:
        """While waiting for the file: its directory does not exist either (a mistyped path?)."""
        return self._dir_missing

    @property
    def mtime(self) -> float:
        """When the followed file was last written (``st_mtime``, seconds since the epoch; 0.0
        before it was opened): the run's clock, for a file read long after it was written."""
        return self._mtime

    @property
    def size(self) -> int:
        """Size in bytes of the current file at the last poll (0 while waiting)."""
        return self._size

    @property
    def behind(self) -> bool:
        """True when the last poll stopped at ``max_poll_bytes`` with more bytes available."""
        return self._behind

    # -- lifecycle -----------------------------------------------------------------------

    def close(self) -> None:
        """Close the open handle, if any. Idempotent; poll() afterwards reopens the path."""
        if self._fd is not None:
            fd, self._fd = self._fd, None
            try:
                os.close(fd)
            except OSError:
                pass

    def __enter__(self) -> Tailer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __del__(self) -> None:
        # A forgotten Tailer must not leak its descriptor; a constructor that raised before
        # the descriptor existed leaves nothing to close.
        if getattr(self, "_fd", None) is not None:
            self.close()

    # -- opening -------------------------------------------------------------------------

    def _open_path(self) -> tuple[int, os.stat_result] | None:
        """Open the path read-only. None if it is missing; raise OSError/TailError otherwise."""
        try:
            st = os.stat(self._path)
        except OSError as e:
            if e.errno in _MISSING_ERRNOS:
                # A mistyped path waits for ever: whether its directory exists is worth saying.
                self._dir_missing = not self._path.parent.is_dir()
                return None
            raise
        self._dir_missing = False
        if stat.S_ISDIR(st.st_mode):
            raise NotAFile(f"{self._path} is a directory, not a log file", "directory")
        if not stat.S_ISREG(st.st_mode):
            # A FIFO would block the open and has no offsets to pread from.
            raise NotAFile(f"{self._path} is not a regular file", "not_regular")
        try:
            fd = os.open(self._path, os.O_RDONLY | os.O_CLOEXEC)
        except OSError as e:
            if e.errno in _MISSING_ERRNOS:
                return None  # removed between stat and open
            raise
        try:
            st = os.fstat(fd)
        except OSError:
            os.close(fd)
            raise
        if not stat.S_ISREG(st.st_mode):  # replaced between stat and open
            os.close(fd)
            kind: TailState = "directory" if stat.S_ISDIR(st.st_mode) else "not_regular"
            raise NotAFile(f"{self._path} is not a regular file", kind)
        return fd, st

    def _open_initial(self, from_end: bool) -> None:
        try:
            opened = self._open_path()
        except PermissionError as e:
            raise TailError(f"cannot read {self._path}: permission denied") from e
        except OSError as e:
            raise TailError(f"cannot read {self._path}: {e.strerror or e}") from e
        if opened is None:
            self._state = "waiting"
            return
        fd, st = opened
        self._adopt(fd, st)
        if from_end:
            self._offset = st.st_size
            self._head = os.pread(fd, min(HEAD_FINGERPRINT_BYTES, st.st_size), 0)
            start = max(0, st.st_size - TAIL_FINGERPRINT_BYTES)
            self._tail = os.pread(fd, st.st_size - start, start)

    def _adopt(self, fd: int, st: os.stat_result) -> None:
        """Make ``fd`` the current file, at offset 0."""
        self.close()
        self._fd = fd
        self._ident = _identity(st)
        self._offset = 0
        self._size = st.st_size
        self._mtime = st.st_mtime
        self._head = b""
        self._tail = b""
        self._state = "following"
        self._had_file = True

    # -- polling -------------------------------------------------------------------------

    def poll(self) -> list[TailItem]:
        """Read everything new since the last poll (up to ``max_poll_bytes``).

        Returns:
            Items in stream order: :class:`Chunk` chunks (each at most ``chunk_size`` bytes,
            NUL bytes dropped) and :class:`Reset` notices; ``[]`` when nothing changed, while
            the file is missing, or while it is unreadable.

        A path replaced by a directory or another non-regular file is not an error here (see
        :attr:`state`): a regular file that takes the name again is read as a new stream.
        """
        out: list[TailItem] = []
        self._behind = False
        budget = [self._max_poll_bytes]
        if self._fd is None and not self._reopen(out):
            return out
        assert self._fd is not None
        try:
            self._poll_open(out, budget)
        except OSError as e:
            if e.errno not in _HANDLE_LOST_ERRNOS:
                raise
            # The handle went bad (NFS ESTALE, I/O error): drop it and reopen the path on the
            # next poll; a file with the same identity then continues at our offset.
            self.close()
            self._state = "waiting"
        return out

    def _reopen(self, out: list[TailItem]) -> bool:
        """Try to open the path when no handle is open. True if a handle is now open."""
        try:
            opened = self._open_path()
        except NotAFile as e:
            # Only the constructor refuses a directory; later the path was replaced under us
            # (`rm log; mkdir log`): wait for a regular file to take the name again.
            self._state = e.state
            return False
        except PermissionError:
            # Only the constructor refuses an unreadable file; later (a new file, or one that
            # appeared after we started waiting) it is retried on every poll.
            self._state = "unreadable"
            return False
        except OSError:
            # ELOOP, EIO, ...: transient or not, a running monitor must not die of it.
            self._state = "unreadable"
            return False
        if opened is None:
            if self._state != "deleted":
                self._state = "waiting"
            return False
        fd, st = opened
        if self._had_file and _identity(st) == self._ident:
            # The same file came back (handle lost and regained): continue where we were.
            self._fd = fd
            self._size = st.st_size
            self._state = "following"
            return True
        had_file = self._had_file
        self._adopt(fd, st)
        if had_file:
            out.append(Reset("recreated"))
        return True

    def _poll_open(self, out: list[TailItem], budget: list[int]) -> None:
        assert self._fd is not None
        try:
            path_st: os.stat_result | None = os.stat(self._path)
        except OSError as e:
            if e.errno in _MISSING_ERRNOS:
                path_st = None
            elif e.errno in (errno.EACCES, errno.EPERM):
                # The directory became unsearchable: we cannot tell identity, read the handle.
                path_st = self._current_stat_as_path()
            else:
                raise
        if path_st is not None and not stat.S_ISREG(path_st.st_mode):
            # The path names a directory (or a FIFO...) now: our file was moved or deleted. Read
            # its handle on (a writer may still hold it) and wait for a regular file to take
            # the name again; it is then read from offset 0 as a new stream.
            self._state = "directory" if stat.S_ISDIR(path_st.st_mode) else "not_regular"
            self._read_current(out, budget, os.fstat(self._fd))
            return

        if path_st is None:
            fst = os.fstat(self._fd)
            if fst.st_nlink == 0 and self._state != "deleted":
                out.append(Reset("deleted"))
                self._state = "deleted"
            # nlink > 0: renamed away (rotation in progress); keep draining it quietly until a
            # new file takes the name.
            self._read_current(out, budget, fst)
            return

        if _identity(path_st) == self._ident:
            if self._state != "following":
                self._state = "following"
            self._read_current(out, budget, os.fstat(self._fd))
            return

        # The path names another file: open it first, so a failed open keeps the old handle.
        try:
            opened = self._open_path()
        except NotAFile as e:  # replaced again between our stat and the open
            self._state = e.state
            self._read_current(out, budget, os.fstat(self._fd))
            return
        except OSError:  # permission denied (or ELOOP, EIO...): keep the old file, retry later
            self._state = "unreadable"
            self._read_current(out, budget, os.fstat(self._fd))
            return
        if opened is None:  # vanished again between stat and open
            self._read_current(out, budget, os.fstat(self._fd))
            return
        new_fd, new_st = opened
        old_fst = os.fstat(self._fd)
        # Drain the old file to its end first: the writer may have written its last records
        # there just before it moved on to the new file (and may even have rewritten it).
        done = self._read_current(out, budget, old_fst)
        if not done:
            os.close(new_fd)  # out of budget; the caller polls again at once (behind)
            return
        reason: ResetReason = "recreated" if self._state == "deleted" or old_fst.st_nlink == 0 else "rotated"
        self._adopt(new_fd, new_st)
        out.append(Reset(reason))
        self._read_current(out, budget, new_st)

    def _current_stat_as_path(self) -> os.stat_result:
        assert self._fd is not None
        return os.fstat(self._fd)

    def _read_current(self, out: list[TailItem], budget: list[int], fst: os.stat_result) -> bool:
        """Check the current handle for truncation, then read what it has.

        Returns:
            True when the end was reached, False when the poll's byte budget ran out first.
        """
        assert self._fd is not None
        if self._was_truncated(fst):
            self._offset = 0
            self._head = b""
            self._tail = b""
            out.append(Reset("truncated"))
        return self._drain(out, budget, fst)

    def _was_truncated(self, fst: os.stat_result) -> bool:
        assert self._fd is not None
        if fst.st_size < self._offset:
            return True
        if self._head and os.pread(self._fd, len(self._head), 0) != self._head:
            return True
        if self._tail:
            n = len(self._tail)
            if os.pread(self._fd, n, self._offset - n) != self._tail:
                return True
        return False

    def _drain(self, out: list[TailItem], budget: list[int], fst: os.stat_result) -> bool:
        """Read from the offset up to the size seen in ``fst`` (bytes written meanwhile wait for
        the next poll, so one poll ends even under a writer faster than us).

        Returns:
            True when the end was reached, False when ``budget`` ran out first.
        """
        assert self._fd is not None
        fd = self._fd
        end = fst.st_size
        self._size = end
        self._mtime = fst.st_mtime
        while self._offset < end:
            if budget[0] <= 0:
                self._behind = True
                return False
            want = min(self._chunk_size, end - self._offset, budget[0])
            chunk = os.pread(fd, want, self._offset)
            if not chunk:  # shrank under us; the next poll sees the truncation
                break
            start = self._offset
            if start + len(chunk) >= end and chunk.endswith(b"\x00"):
                # NULs at the very end may be pages not written yet (an NFS client can see the
                # new size before the data, a writer may preallocate): leave a short run
                # unread so its real bytes are read once they land. A long run is a genuine
                # hole (``truncate -s``) and is consumed, so it is not re-read every poll.
                kept = chunk.rstrip(b"\x00")
                # An all-NUL chunk after NULs already consumed continues a run that was
                # too long to hold back: consume it too.
                continues_run = not kept and self._tail.endswith(b"\x00")
                if len(chunk) - len(kept) <= NUL_HOLDBACK_BYTES and not continues_run:
                    chunk = kept
                    if not chunk:
                        break
            self._remember(start, chunk)
            self._offset += len(chunk)
            budget[0] -= len(chunk)
            if b"\x00" in chunk:
                # NUL runs are the hole a non-O_APPEND writer leaves after a truncation.
                chunk = chunk.replace(b"\x00", b"")
            if chunk:
                out.append(Chunk(start, chunk, self._offset))
        return True

    def _remember(self, start: int, chunk: bytes) -> None:
        """Extend the head fingerprint and refresh the tail one from bytes just read."""
        if len(self._head) < HEAD_FINGERPRINT_BYTES and start <= len(self._head):
            need = HEAD_FINGERPRINT_BYTES - len(self._head)
            skip = len(self._head) - start
            self._head += chunk[skip : skip + need]
        if len(chunk) >= TAIL_FINGERPRINT_BYTES:
            self._tail = chunk[-TAIL_FINGERPRINT_BYTES:]
        else:
            self._tail = (self._tail + chunk)[-TAIL_FINGERPRINT_BYTES:]

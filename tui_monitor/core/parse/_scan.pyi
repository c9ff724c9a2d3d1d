# The optional C extension (_scan.c); see accel.py.
def read_run(
    buf: bytes, start: int, shapes: tuple[tuple[bytes, ...], ...], min_lines: int
) -> tuple[int, tuple[bytearray, ...], bytearray, bytes] | None: ...
def scan_steps(buf: bytes, base: int, total: int, armed: bool) -> tuple[list[tuple[int, str, int, int]], bool]: ...

MAX_DIGITS: int

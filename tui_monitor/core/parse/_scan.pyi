# The optional C extension (_scan.c); see accel.py.
from typing_extensions import Buffer

def read_run(
    buf: bytes, start: int, base: int, shapes: tuple[tuple[bytes, ...], ...], dest: bytes, min_lines: int
) -> tuple[int, bytes, bytearray, bytearray | None, bytearray, bytes] | None: ...
def scan_steps(buf: bytes, base: int, total: int, armed: bool) -> tuple[list[tuple[int, str, int, int]], bool]: ...
def spe_span(
    steps: Buffer, epochs: Buffer, spe: float | None, tol: float, halves: Buffer, lo_epoch: float, hi_epoch: float
) -> tuple[float, float, float] | bool | None: ...
def run_moves(
    steps: Buffer,
    epochs: Buffer | None,
    m: int,
    shapes: Buffer | None,
    start: int,
    kinds: list[str],
    last_step: int | None,
    last_epoch: float | None,
) -> tuple[int | None, int | None, float | None, int | None, float | None, int | None, float | None] | None: ...
def survey(buf: Buffer, groups: tuple[tuple[bytes, ...], ...]) -> tuple[int, int]: ...

MAX_DIGITS: int
RUN_FORM: int

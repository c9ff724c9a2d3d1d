"""Fuzz the parser with the hardening properties of tests/parse/test_parser_properties.py, at scale.

Runs each property with hypothesis (generate + shrink phases, no example database) for
``--examples`` generated inputs, as runs of ``--chunk`` examples with distinct seeds spread
over ``--jobs`` worker processes, and prints how many inputs were run and what failed
(shrunk input included). The generator's rules (what noise may
surround a record) are documented in tests/parse/hypothesis_logs.py.

    .venv/bin/python benchmarks/fuzz_parser.py --examples 100000 --jobs 2

``scan`` (and ``scanlog``) run the compiled scan (the C extension, when built) against the
pure-Python path on random run text cut anywhere and read from any offset (and on random noisy
logs through ``feed_columnar`` in random chunks): the same runs and values, and under a
sanitizer build (BENCHMARKS.md, "Catch-up") no memory or undefined-behaviour finding. ``steps``
does the same for the tqdm clear/redraw scan (``StepTracker.scan``): random tqdm text with random
bytes after it, cut anywhere, with any train-bar total and armed state: the same markers.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import sys
import time
from pathlib import Path

_ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(_ROOT / "tests" / "parse"), str(_ROOT / "tests"), str(_ROOT / "benchmarks")]

PROPERTIES = ("bytes", "soup", "console", "jsonl", "scan", "scanlog", "steps")


GUARDED_MAX = 1 << 16
_guard: list[object] = []


def guarded(data: bytes) -> memoryview:
    """``data`` in memory followed by an unreadable page (Linux ``mprotect``): a read past its
    end faults at once."""
    import ctypes
    import mmap

    if not _guard:
        page = mmap.PAGESIZE
        m = mmap.mmap(-1, GUARDED_MAX + page)
        addr = ctypes.addressof(ctypes.c_char.from_buffer(m))
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.mprotect(ctypes.c_void_p(addr + GUARDED_MAX), page, 0) != 0:
            raise OSError(ctypes.get_errno(), "mprotect")
        _guard.append(m)
    m = _guard[0]
    off = GUARDED_MAX - len(data)
    m[off:GUARDED_MAX] = data  # type: ignore[index]
    return memoryview(m)[off:GUARDED_MAX]  # type: ignore[arg-type]


def run(job: tuple[str, int, int]) -> tuple[str, int, float, str | None]:
    """Run ``n`` examples of one property with ``seed``; return (name, n, seconds, failure)."""
    name, n, seed = job
    import test_parser_properties as T
    from hypothesis import HealthCheck, Phase, given, settings
    from hypothesis import seed as hseed
    from hypothesis import strategies as st
    from hypothesis_logs import check_records, chunked, console_logs, jsonl_logs, parse_chunks

    cuts = st.lists(st.integers(min_value=0, max_value=1 << 16), max_size=12)
    cfg = settings(
        max_examples=n,
        deadline=None,
        database=None,
        phases=[Phase.generate, Phase.shrink],
        suppress_health_check=list(HealthCheck),
    )
    soup = T.test_dict_like_token_soup_never_raises.hypothesis.inner_test

    if name == "bytes":

        @given(data=st.binary(max_size=4096), cuts=cuts)
        def prop(data: bytes, cuts: list[int]) -> None:
            parse_chunks(chunked(data, cuts))
    elif name == "soup":
        strat = T.test_dict_like_token_soup_never_raises.hypothesis._given_kwargs["data"]

        @given(data=strat, cuts=cuts)
        def prop(data: bytes, cuts: list[int]) -> None:
            soup(data, cuts)
    elif name == "console":

        @given(log=console_logs(), cuts=cuts)
        def prop(log, cuts: list[int]) -> None:  # type: ignore[no-untyped-def]
            p, items = parse_chunks(chunked(log.data, cuts))
            assert p.format == "console"
            check_records(log, items)
    elif name == "scan":
        import test_scan_paths as S

        @given(case=S.run_text(), start=st.integers(0, 1 << 12), extra=st.binary(max_size=64))
        def prop(case, start: int, extra: bytes) -> None:  # type: ignore[no-untyped-def]
            buf, keys = case
            buf = buf + extra
            s0 = min(start, len(buf))
            got = [S._read_at(buf, s0, keys, compiled) for compiled in (True, False)]
            assert got[0] == got[1]
            others = tuple(tuple(k.encode() for k in ks) for ks in (S.OTHER, S.EVAL))
            got = [S._read_at(buf, s0, keys, compiled, *others) for compiled in (True, False)]
            assert got[0] == got[1]
            if S.COMPILED is not None and len(buf) <= GUARDED_MAX:
                # The same bytes ending right before a page that may not be read: an over-read
                # is a segfault here, whatever the allocator (ASan does not see inside pymalloc).
                keyss = (keys, *(tuple(k.encode() for k in ks) for ks in (S.OTHER, S.EVAL)))
                spec = S.columnar_mod._RunSpec(tuple(map(S.columnar_mod.ShapePlan, keyss)))
                args = (s0, 0, spec.keys, spec.dest, 1)
                assert S.COMPILED.read_run(guarded(buf), *args) == S.COMPILED.read_run(buf, *args)
    elif name == "steps":
        import test_scan_paths as S

        @given(
            data=S.tqdm_text(),
            extra=st.binary(max_size=64),
            cuts=st.lists(st.integers(0, 1 << 16), max_size=6),
            total=st.sampled_from([100, 37, 10**30 + 7]),
            armed=st.booleans(),
        )
        def prop(data: bytes, extra: bytes, cuts: list[int], total: int, armed: bool) -> None:
            buf = data + extra
            S._same_steps(buf, cuts, total, armed)
            if S.COMPILED is not None and len(buf) <= GUARDED_MAX:
                # The buffer ending right before an unreadable page (see "scan").
                want = S.COMPILED.scan_steps(buf, 0, total, armed)
                assert S.COMPILED.scan_steps(guarded(buf), 0, total, armed) == want
    elif name == "scanlog":
        import test_scan_paths as S

        @given(data=S.noisy_logs(), chunk=st.integers(1, 5000))
        def prop(data: bytes, chunk: int) -> None:
            a, b = S._parse(data, chunk, compiled=True), S._parse(data, chunk, compiled=False)
            assert a[0] == b[0] and repr(a[1]) == repr(b[1])
    else:

        @given(log=jsonl_logs(), cuts=cuts)
        def prop(log, cuts: list[int]) -> None:  # type: ignore[no-untyped-def]
            p, items = parse_chunks(chunked(log.data, cuts))
            assert p.format == "jsonl"
            check_records(log, items)

    last: list[str] = []
    inner = prop.hypothesis.inner_test

    def recording(**kw: object) -> None:
        try:
            inner(**kw)
        except Exception:
            last[:] = [repr(kw)[:3000]]
            raise

    prop.hypothesis.inner_test = recording
    t0 = time.perf_counter()
    try:
        hseed(seed)(cfg(prop))()
    except Exception as e:  # noqa: BLE001 - report the shrunk failure
        return name, n, time.perf_counter() - t0, f"{type(e).__name__}: {e}"[:2000] + f" input: {last[:1]}"
    return name, n, time.perf_counter() - t0, None


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--examples", type=int, default=100_000, help="generated inputs per property (default 100000)")
    ap.add_argument("--jobs", type=int, default=2, help="worker processes (default 2)")
    ap.add_argument("--chunk", type=int, default=5000, help="examples per hypothesis run (default 5000)")
    ap.add_argument("--seed", type=int, default=20261129)
    ap.add_argument("--only", choices=PROPERTIES, action="append", help="run only these properties")
    args = ap.parse_args()
    props = args.only or list(PROPERTIES)
    jobs = []
    for prop in props:
        left, j = args.examples, 0
        while left > 0:
            n = min(args.chunk, left)
            jobs.append((prop, n, args.seed + 1000 * j + PROPERTIES.index(prop)))
            left -= n
            j += 1
    t0 = time.perf_counter()
    total: dict[str, int] = {}
    failures: list[str] = []
    with mp.get_context("fork").Pool(args.jobs) as pool:
        for name, n, secs, fail in pool.imap_unordered(run, jobs):
            total[name] = total.get(name, 0) + n
            print(f"{name:8s} {n:>8,} examples in {secs:7.1f} s  {'FAIL ' + fail if fail else 'ok'}", flush=True)
            if fail:
                failures.append(f"{name}: {fail}")
    wall = time.perf_counter() - t0
    print(
        f"total: {sum(total.values()):,} generated inputs ({', '.join(f'{k} {v:,}' for k, v in total.items())}) "
        f"in {wall:.0f} s wall, {len(failures)} failing properties"
    )
    for f in failures:
        print(f)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())

"""Coverage-guided fuzzing of the frame parser with atheris (optional; not run in CI).

    pip install atheris
    python tests/fuzz/atheris_frames.py -max_total_time=600 [corpus_dir]

Each input is a parser setting and a stream: the first byte picks compression and the message
size limit, the second the feed() chunk size, the rest is fed to both builds; they must agree
call by call and end in a defined answer (test_fuzz_frames.feed_both and assert_defined).
Coverage guidance comes from the pure build, instrumented on import; the compiled build is
checked against it. tests/fuzz/test_fuzz_frames.py runs ``one_input`` on a few inputs so this
harness cannot rot unnoticed; without atheris the script says so and exits.
"""

from __future__ import annotations

import sys
from pathlib import Path

try:
    import atheris
except ImportError:  # optional: never a dependency of aro or of the test suite
    atheris = None

MAX_SIZES = (1 << 20, 0, 1, 125, 126, 65536)


def one_input(data: bytes) -> None:
    """Check one fuzzer input (see the module docstring for its layout)."""
    from tests.fuzz.test_fuzz_frames import assert_defined, feed_both

    if len(data) < 2:
        return
    compression, max_size = bool(data[0] & 1), MAX_SIZES[(data[0] >> 1) % len(MAX_SIZES)]
    step = data[1] or len(data)
    stream = data[2:]
    chunks = [stream[start : start + step] for start in range(0, len(stream), step)]
    batches = feed_both(chunks, max_size, compression)
    assert_defined([event for batch in batches for event in batch])


def main() -> None:
    if atheris is None:
        sys.exit("atheris is not installed: pip install atheris")
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    with atheris.instrument_imports():
        import aro._speedups._pure  # noqa: F401 - instrumented for coverage guidance
    atheris.Setup(sys.argv, one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()

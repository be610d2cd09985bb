"""Coverage-guided fuzzing of the HTTP request path under atheris: libFuzzer mutates the bytes
from which hypothesis draws the near-valid request streams of test_fuzz_http.py, and the same
oracle judges each (a defined answer, unambiguous requests, independent of how it is read).

Run (long, on demand; libFuzzer options such as ``-runs=N``, ``-max_total_time=S`` or a corpus
directory pass through):

    python tests/fuzz/atheris_http.py -max_total_time=600

Where atheris is not installed it says so and exits 0, so it never fails a build.
"""

from __future__ import annotations

import sys
from pathlib import Path

try:
    import atheris
except ImportError:
    atheris = None

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the repository root


def main() -> None:
    if atheris is None:
        print("atheris is not installed (pip install atheris): nothing to fuzz")
        return
    with atheris.instrument_imports(include=["aro"]):
        from tests.fuzz import test_fuzz_http
    target = test_fuzz_http.test_near_valid_requests_end_in_a_defined_answer_however_they_are_read
    atheris.Setup(sys.argv, target.hypothesis.fuzz_one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()

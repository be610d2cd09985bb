"""``python -m bench [--quick] [--only NAME ...] [--charts DIR]``: every table of
bench/RESULTS.md from one run, ours against the peers, with ratios and a chart per table.

Needs the ``[bench]`` extra (``pip install -e '.[bench]'``) and Debian's ``wrk`` for HTTP.
"""

from __future__ import annotations

import sys
import time

from bench.report import draw, render
from bench.suite import SCENARIOS, parse_arguments


def main(argv: list[str] | None = None) -> int:
    arguments = parse_arguments(argv)
    started = time.monotonic()
    print(f"# python -m bench {' '.join(argv if argv is not None else sys.argv[1:])}".rstrip())
    print(f"# {time.strftime('%Y-%m-%d %H:%M')}, load average {_load():.2f}", flush=True)
    for name in arguments.only or list(SCENARIOS):
        scenario_started = time.monotonic()
        for table in SCENARIOS[name](arguments.quick):
            print("\n" + render(table), flush=True)
            if table.rows:
                print(f"chart: {draw(table, arguments.charts)}", flush=True)
        print(f"({name}: {time.monotonic() - scenario_started:.0f} s)", flush=True)
    print(f"\n# done in {time.monotonic() - started:.0f} s", flush=True)
    return 0


def _load() -> float:
    import os

    return os.getloadavg()[0]


if __name__ == "__main__":
    sys.exit(main())

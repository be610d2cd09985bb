"""Tables of one ``python -m bench`` run: printed with ratios against each peer, and drawn
as bar charts (matplotlib) because a reader compares bars faster than columns of numbers."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

OURS = "aro-py"
LOG_SCALE_SPREAD = 100  # largest / smallest figure above which a chart is logarithmic


@dataclass
class Table:
    """One figure per case and contender; ``ratio`` is ours / peer, and a note says which way
    is better.  Contenders keep the order in which they were first measured."""

    name: str  # file name of its chart: bench/charts/<name>.png
    title: str
    unit: str
    lower_is_better: bool
    rows: dict[str, dict[str, float]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def add(self, case: str, contender: str, value: float) -> None:
        self.rows.setdefault(case, {})[contender] = value

    @property
    def contenders(self) -> list[str]:
        seen: dict[str, None] = {}
        for values in self.rows.values():
            seen.update(dict.fromkeys(values))
        return list(seen)

    @property
    def peers(self) -> list[str]:
        """Every contender but ours and our own variants (``aro-py (pure)``)."""
        return [name for name in self.contenders if not name.startswith(OURS)]


def ratio(table: Table, case: str, peer: str) -> float | None:
    values = table.rows.get(case, {})
    ours, theirs = values.get(OURS), values.get(peer)
    if not ours or not theirs:
        return None
    return ours / theirs


def render(table: Table) -> str:
    """A Markdown table: one column per contender, then ours/peer per peer."""
    better = "lower" if table.lower_is_better else "higher"
    lines = [f"### {table.title}", "", f"{table.unit}; {better} is better.", ""]
    header = ["case", *table.contenders, *(f"{OURS}/{peer}" for peer in table.peers)]
    lines.append("| " + " | ".join(header) + " |")
    lines.append("|" + "---|" * len(header))
    for case, values in table.rows.items():
        cells = [case] + [_number(values.get(name)) for name in table.contenders]
        for peer in table.peers:
            found = ratio(table, case, peer)
            cells.append("-" if found is None else f"{found:.2f}x")
        lines.append("| " + " | ".join(cells) + " |")
    lines += [f"- {note}" for note in table.notes]
    return "\n".join(lines)


def _number(value: float | None) -> str:
    if value is None or math.isnan(value):
        return "-"
    if value >= 100:
        return f"{value:,.0f}"
    return f"{value:.3g}"


def draw(table: Table, directory: Path) -> Path:
    """A grouped bar chart of the table (one group per case, one bar per contender)."""
    import matplotlib

    matplotlib.use("Agg")  # files only: no display on a server
    import matplotlib.pyplot as plt

    contenders = table.contenders
    cases = list(table.rows)
    width = 0.8 / max(len(contenders), 1)
    figure, axes = plt.subplots(figsize=(min(16.0, 2.0 + 0.4 * len(cases) * len(contenders)), 4.0))
    for index, name in enumerate(contenders):
        heights = [table.rows[case].get(name, 0.0) for case in cases]
        offsets = [position + (index - (len(contenders) - 1) / 2) * width for position in
                   range(len(cases))]  # fmt: skip
        bars = axes.bar(offsets, heights, width, label=name)
        axes.bar_label(bars, labels=[_number(h) if h else "" for h in heights], fontsize=7)
    axes.set_xticks(range(len(cases)), cases, fontsize=8, rotation=20 if len(cases) > 4 else 0)
    values = [value for row in table.rows.values() for value in row.values() if value > 0]
    if values and max(values) > LOG_SCALE_SPREAD * min(values):
        axes.set_yscale("log")  # else the small figures are invisible bars
    better = "lower" if table.lower_is_better else "higher"
    axes.set_ylabel(f"{table.unit} ({better} is better)", fontsize=8)
    axes.set_title(table.title, fontsize=10)
    axes.legend(fontsize=8)
    figure.tight_layout()
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{table.name}.png"
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path

"""The spike rule: this week's events well above the median of the previous 8 weeks.

Robust spread: the median absolute deviation scaled to a standard deviation (·1.4826), at least 1
so a perfectly flat history does not flag a single extra event; and a minimum volume so small
counts never flag.
"""

from dataclasses import dataclass
from statistics import median

HISTORY_WEEKS = 8
MIN_EVENTS = 20
THRESHOLD = 3
MAD_SCALE = 1.4826
RULE = (
    f"events ≥ {MIN_EVENTS} and events > baseline + {THRESHOLD}·spread; baseline = median of the previous "
    f"{HISTORY_WEEKS} weeks, spread = max(MAD·{MAD_SCALE}, 1)"
)


@dataclass(frozen=True)
class SpikeVerdict:
    spike: bool
    baseline: float
    spread: float

    @property
    def threshold(self) -> float:
        return self.baseline + THRESHOLD * self.spread


def spike_check(*, events: int, history: list[int]) -> SpikeVerdict:
    """history: events of the previous HISTORY_WEEKS weeks (missing weeks as 0)."""
    baseline = float(median(history)) if history else 0.0
    mad = float(median(abs(n - baseline) for n in history)) if history else 0.0
    spread = max(mad * MAD_SCALE, 1.0)
    return SpikeVerdict(
        events >= MIN_EVENTS and events > baseline + THRESHOLD * spread, baseline, round(spread, 3)
    )

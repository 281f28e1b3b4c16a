"""A bounded log-linear histogram of wait times, for the p99 column."""

from __future__ import annotations

from typing import Dict

# Below this, every nanosecond value has its own bucket. Above it, each power
# of two is split into 8 buckets, so a bucket is at most 1/8 of its lower
# bound wide: a quantile is off by at most 12.5%, with at most 8 buckets per
# power of two (about 500 for any int64), whatever the number of events.
_EXACT_BELOW = 16
_SUB_BITS = 3


def bucket_of(delay_ns: int) -> int:
    """bucket_of returns the lower bound of the bucket that holds delay_ns."""
    if delay_ns < _EXACT_BELOW:
        return delay_ns
    shift = delay_ns.bit_length() - 1 - _SUB_BITS
    return (delay_ns >> shift) << shift


def bucket_upper(lower: int) -> int:
    """bucket_upper returns the largest value in the bucket starting at lower."""
    if lower < _EXACT_BELOW:
        return lower
    shift = lower.bit_length() - 1 - _SUB_BITS
    return lower + (1 << shift) - 1


class Histogram:
    """Histogram counts weighted wait times in log-linear buckets.

    It is not safe for concurrent use: the Store that owns it holds its lock.
    """

    __slots__ = ("_weights", "_max_ns")

    def __init__(self) -> None:
        self._weights: Dict[int, float] = {}
        self._max_ns = 0

    def add(self, delay_ns: int, weight: float) -> None:
        """add counts delay_ns weight times."""
        lower = bucket_of(delay_ns)
        self._weights[lower] = self._weights.get(lower, 0.0) + weight
        if delay_ns > self._max_ns:
            self._max_ns = delay_ns

    def quantile(self, q: float) -> int:
        """quantile returns the upper bound of the bucket holding the q-quantile.

        The bound is capped at the largest value added, so a histogram of
        equal values returns that value exactly. An empty histogram returns 0.
        """
        total = sum(self._weights.values())
        if total <= 0:
            return 0
        need = q * total
        seen = 0.0
        for lower in sorted(self._weights):
            seen += self._weights[lower]
            if seen >= need:
                return min(bucket_upper(lower), self._max_ns)
        return self._max_ns

    def copy(self) -> Histogram:
        """copy returns an independent copy."""
        h = Histogram()
        h._weights = dict(self._weights)
        h._max_ns = self._max_ns
        return h

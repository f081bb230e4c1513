"""Comparison operators and tier raise/clear tests."""

from __future__ import annotations

import pytest

from edge_rules.model import Direction, Op, Tier
from vitals.alerts import Severity


@pytest.mark.parametrize(
    ("op", "value", "expected"),
    [
        (Op.LT, 69.9, True),
        (Op.LT, 70, False),
        (Op.LE, 70, True),
        (Op.GT, 70, False),
        (Op.GE, 70, True),
        (Op.GT, 70.1, True),
    ],
)
def test_ops(op: Op, value: float, expected: bool) -> None:
    assert op.holds(value, 70) is expected


def test_directions_and_symbols() -> None:
    assert Op.LE.direction is Direction.BELOW and Op.GE.direction is Direction.ABOVE
    assert [o.symbol for o in Op] == ["<", "≤", ">", "≥"]


def test_tier_hysteresis_band() -> None:
    low = Tier(Severity.WARNING, Op.LT, 70, clear=80)
    assert low.breached(69) and not low.breached(75) and not low.cleared(75) and low.cleared(80)
    high = Tier(Severity.WARNING, Op.GT, 250, clear=230)
    assert high.breached(251) and not high.cleared(240) and high.cleared(230)

"""Derived ULIDs: deterministic, valid, time-ordered."""

from __future__ import annotations

from edge_rules.ids import derived_ulid
from tests.edge_rules.rules_helpers import at
from vitals.ids import is_msg_id


def test_same_inputs_same_id_and_valid() -> None:
    a = derived_ulid(at(0), "p/rule/1")
    assert a == derived_ulid(at(0), "p/rule/1") and is_msg_id(a)
    assert a != derived_ulid(at(0), "p/rule/2")
    assert derived_ulid(at(1), "x") > derived_ulid(at(0), "x")

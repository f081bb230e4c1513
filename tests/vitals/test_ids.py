"""msg_id ULIDs: canonical, parse with python-ulid to the intended time, sort by mint order."""

from __future__ import annotations

from datetime import UTC, datetime

from ulid import ULID

from edge_rules.ids import derived_ulid
from vitals.ids import encode_ulid, is_msg_id, new_msg_id


def test_minted_ids_are_canonical_ulids_carrying_the_given_time() -> None:
    at = datetime(2026, 11, 25, 21, 30, 15, 123000, tzinfo=UTC)
    ids = [new_msg_id(at) for _ in range(1000)]
    assert all(is_msg_id(m) for m in ids)
    assert all(str(ULID.from_str(m)) == m for m in ids)
    assert {ULID.from_str(m).datetime for m in ids} == {at}
    assert ids == sorted(ids) and len(set(ids)) == 1000  # monotonic within one millisecond


def test_ids_without_a_time_use_the_clock_and_sort_in_mint_order() -> None:
    before = datetime.now(UTC).timestamp()
    ids = [new_msg_id() for _ in range(2000)]
    after = datetime.now(UTC).timestamp()
    assert ids == sorted(ids) and len(set(ids)) == 2000
    stamps = [ULID.from_str(m).timestamp for m in ids]
    assert before - 0.001 <= min(stamps) and max(stamps) <= after + 0.001


def test_encoding_matches_python_ulid_bit_for_bit() -> None:
    for ms, rnd in ((0, 0), (1, 1), ((1 << 48) - 1, (1 << 80) - 1), (1_764_106_215_123, 12345)):
        expected = ULID.from_bytes(ms.to_bytes(6, "big") + rnd.to_bytes(10, "big"))
        assert encode_ulid(ms, rnd) == str(expected)


def test_derived_ulid_is_deterministic_and_keyed() -> None:
    at = datetime(2026, 1, 1, tzinfo=UTC)
    assert derived_ulid(at, "a") == derived_ulid(at, "a") != derived_ulid(at, "b")
    assert ULID.from_str(derived_ulid(at, "a")).datetime == at

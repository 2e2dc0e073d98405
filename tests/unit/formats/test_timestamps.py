"""formats/timestamps.py: metav1.Time and metav1.MicroTime text in UTC, and epoch seconds back from either."""

from __future__ import annotations

import pytest

from genai_operator.formats.timestamps import to_epoch, to_micro_stamp, to_stamp

EPOCH = 1_798_761_600.25  # 2027-01-01T00:00:00.25Z


def test_status_times_are_whole_seconds_in_utc() -> None:
    assert to_stamp(EPOCH) == "2027-01-01T00:00:00Z"
    assert to_stamp(0) == "1970-01-01T00:00:00Z"


def test_lease_times_carry_microseconds() -> None:
    assert to_micro_stamp(EPOCH) == "2027-01-01T00:00:00.250000Z"


@pytest.mark.parametrize(
    ("stamp", "epoch"),
    [
        ("2027-01-01T00:00:00Z", int(EPOCH)),
        ("2027-01-01T00:00:00.250000Z", EPOCH),
        ("2027-01-01T01:00:00+01:00", int(EPOCH)),
    ],
)
def test_either_form_reads_back(stamp: str, epoch: float) -> None:
    assert to_epoch(stamp) == epoch


def test_no_stamp_is_no_time() -> None:
    assert to_epoch(None) is None and to_epoch("") is None
    assert to_epoch(to_stamp(EPOCH)) == int(EPOCH)
    assert to_epoch(to_micro_stamp(EPOCH)) == EPOCH

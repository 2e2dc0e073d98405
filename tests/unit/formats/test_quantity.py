"""formats/quantity.py, the one home of Kubernetes quantities and byte sizes: parsing quantities, bytes as
a request quantity ("4Gi") and as message text ("1.5 GiB"), whole cores of a CPU quantity, plain decimals."""

from __future__ import annotations

from decimal import Decimal

import pytest

from genai_operator.formats.quantity import (
    GIB,
    gi_quantity,
    gib_text,
    parse_quantity,
    plain_number,
    to_bytes,
    to_millicores,
    whole_cores,
)


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("4", Decimal(4)),
        ("500m", Decimal("0.5")),
        ("16Gi", Decimal(16 * 1024**3)),
        ("2.5", Decimal("2.5")),
        ("1k", Decimal(1000)),
    ],
)
def test_quantities(text: str, value: Decimal) -> None:
    assert parse_quantity(text) == value


def test_quantity_helpers() -> None:
    assert plain_number(Decimal("0.800")) == "0.8" and plain_number(Decimal("4")) == "4"
    assert whole_cores("500m") == 1 and whole_cores("2.1") == 3
    assert to_bytes("1Mi") == 2**20 and to_millicores("2") == 2000
    with pytest.raises(ValueError, match="quantity"):
        parse_quantity("4 cores")


def test_bytes_as_a_request_quantity_round_up_to_whole_gib() -> None:
    assert gi_quantity(1) == "1Gi" and gi_quantity(0) == "1Gi"
    assert gi_quantity(3 * GIB) == "3Gi" and gi_quantity(3 * GIB + 1) == "4Gi"


def test_bytes_as_text_keep_one_decimal() -> None:
    assert gib_text(int(1.5 * GIB)) == "1.5 GiB"
    assert gib_text(int(141.06 * GIB)) == "141.1 GiB" and gib_text(0) == "0.0 GiB"

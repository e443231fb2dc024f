"""Intake's small readers (matcher/exchange/intake.py) answer as the plain rules do: an enum parameter is the member
Enum(value) gives, or the same coded refusal; the allowed-parameter check names the unknown ones."""

from __future__ import annotations

from typing import Any

import pytest

from matcher.exchange.errors import ApiError
from matcher.exchange.intake import _enum, _only
from matcher.model import OrderType, Side, Stp, TimeInForce

ODD = [None, "", "buy", "Buy", " BUY", "BUY ", 1, 0, True, 1.5, ["BUY"], {"a": 1}, "LIMIT\x00", "\u0042UY"]


@pytest.mark.parametrize("kind", [Side, OrderType, TimeInForce, Stp])
def test_an_enum_parameter_is_what_enum_gives_or_the_same_refusal(kind: Any) -> None:
    for value in [member.value for member in kind] + ODD:
        try:
            expected: Any = kind(value)
        except (ValueError, TypeError):
            expected = "refused"
        try:
            got: Any = _enum(kind, {"f": value}, "f", -1116)
        except ApiError as refused:
            assert refused.code == -1116 and refused.msg == f"Invalid f: {value!r}."
            got = "refused"
        assert got == expected if value is not None else got == "refused", value
        assert got is expected or got == "refused"
    assert _enum(kind, {}, "f", -1116, default=list(kind)[0]) is list(kind)[0]


def test_unknown_parameters_are_named_in_order() -> None:
    _only({"a": 1, "b": 2}, {"a", "b", "c"})
    with pytest.raises(ApiError, match="unknown: x, y"):
        _only({"y": 1, "a": 2, "x": 3}, {"a"})

"""A JSON body reads the same whichever parser reads it (matcher/exchange/params.py): orjson takes the flat
objects it reads exactly as the standard library does; everything else - big integers, NaN, lone surrogates,
nested values, floats - is the standard library's, with the same answers and errors as before."""

from __future__ import annotations

import json
from typing import Any

import pytest

from matcher.exchange.errors import ApiError
from matcher.exchange.params import body_params

BODIES = [
    '{"symbol":"BRSWBNB","side":"BUY","nonce":"17","quantity":"1.5","recvWindow":5000}',
    '{"a":1,"a":2}', '{"a":true,"b":null,"c":false}', '{}', ' {"a":"x"} ',
    '{"nonce":123456789012345678901234567890}', '{"nonce":-9223372036854775809}', '{"nonce":18446744073709551615}',
    '{"price":0.1}', '{"price":1e400}', '{"price":NaN}', '{"price":-Infinity}', '{"n":-0}',
    '{"s":"\\ud800"}', '{"s":"\\udbff\\udfff"}', '{"s":"\\u0000"}', '{"s":"\\/"}', '{"\\u0061":1}',
    '{"list":[1,2]}', '{"nested":{"a":1}}',
]
REFUSED = ['{"a":"x\ty"}', '{"a":1,}', '{"a": 01}', '{"a": 1}x', '[1,2]', '"text"', '{"a":', '{"a":"x\x00"}']


def parsed(text: str) -> Any:
    return body_params(text.encode(), "application/json")


@pytest.mark.parametrize("text", BODIES)
def test_a_json_body_reads_as_the_standard_library_reads_it(text: str) -> None:
    ours, theirs = parsed(text), json.loads(text)
    assert ours == theirs or json.dumps(ours) == json.dumps(theirs)  # NaN != NaN: compared as text
    assert [type(v) for v in ours.values()] == [type(v) for v in theirs.values()]  # an int stays an int


@pytest.mark.parametrize("text", REFUSED)
def test_what_is_not_a_json_object_is_refused_as_before(text: str) -> None:
    with pytest.raises(ApiError) as refused:
        parsed(text)
    assert refused.value.code == -1102

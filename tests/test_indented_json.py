"""The fast indented JSON writer gives exactly the bytes of ``json.dumps(indent=2)``."""

from __future__ import annotations

import enum
import http
import json
import random
from typing import Any

import pytest

from klint.reporters.indented_json import dump_indented


class _Flag(enum.IntEnum):  # an int subclass: the stdlib decides how it looks
    ON = 1


SAMPLES: list[Any] = [
    {},
    [],
    "plain",
    'quote " back\\slash \n tab\t é ☃ \udcff \x00',
    {"a": 1, "b": [1, 2.5, -0.0, 1e300, True, False, None], "c": {}, "d": []},
    {"nested": [{"x": [[], [{}], {"y": "z"}]}], "n": float("inf")},
    [("tuple", 1), {1: "int key", "s": "str key"}, {None: 1, True: 2}],
    {"é": {"☃": ["é"]}},
    {"flag": _Flag.ON, "code": http.HTTPStatus.OK, "count": 0, "big": -(2**70)},
]


def _random_value(rng: random.Random, depth: int) -> Any:
    choice = rng.randrange(8 if depth < 4 else 5)
    if choice == 0:
        return rng.choice(["", "a", 'é\n"', "\u2028", "x" * 5])
    if choice == 1:
        return rng.randint(-(10**20), 10**20)
    if choice == 2:
        return rng.random() * 10 ** rng.randint(-5, 20)
    if choice == 3:
        return rng.choice([True, False, None])
    if choice == 4:
        return ""
    if choice == 5:
        return [_random_value(rng, depth + 1) for _ in range(rng.randrange(4))]
    if choice == 6:
        return tuple(_random_value(rng, depth + 1) for _ in range(rng.randrange(3)))
    return {f"k{i}é": _random_value(rng, depth + 1) for i in range(rng.randrange(4))}


@pytest.mark.parametrize("indent", ["", "  ", "      "])
def test_same_bytes_as_json_dumps(indent: str) -> None:
    rng = random.Random(27)
    values = SAMPLES + [_random_value(rng, 0) for _ in range(300)]
    for value in values:
        expected = json.dumps(value, indent=2, ensure_ascii=False).replace("\n", "\n" + indent)
        assert dump_indented(value, indent) == expected, value

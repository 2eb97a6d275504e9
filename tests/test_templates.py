import ast
from pathlib import Path

import pytest

from offboard.templates import python_literal

AWKWARD = ['a "quoted" name', "back\\slash", "line\nbreak\ttab", "Söhne & Co", "emoji 🚀 path", "'''", '"""', "\x00", ""]


@pytest.mark.parametrize("value", AWKWARD)
def test_every_string_is_a_python_literal_of_itself(value):
    assert ast.literal_eval(python_literal(value)) == value


def test_mappings_are_sorted_one_item_per_line_and_nest():
    value = {"b": [Path("/x"), None, True, 7], "a": {"k": "v"}, "e": {}}
    text = python_literal(value, level=2)
    assert ast.literal_eval(text) == {"a": {"k": "v"}, "b": ["/x", None, True, 7], "e": {}}
    assert text.splitlines() == [
        "{",
        '            "a": {',
        '                "k": "v",',
        "            },",
        '            "b": [',
        '                "/x",',
        "                None,",
        "                True,",
        "                7,",
        "            ],",
        '            "e": {},',
        "        }",
    ]


def test_a_value_without_a_literal_is_refused():
    with pytest.raises(TypeError, match="no Python literal for float"):
        python_literal(1.5)

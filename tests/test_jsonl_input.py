"""The shared JSONL reader: records with their line numbers, one-line errors for every bad file."""

import pytest

from verifrag.errors import UserError
from verifrag.jsonl_input import read_objects


def test_objects_come_with_their_line_numbers_and_blank_lines_are_skipped(tmp_path):
    path = tmp_path / "ok.jsonl"
    path.write_text('{"a": 1}\n\n{"a": 2}\n', encoding="utf-8")
    assert list(read_objects(path, "pairs file")) == [(1, {"a": 1}), (3, {"a": 2})]


@pytest.mark.parametrize("content, message", [
    (b'{"a": 1}\n{"a": \n', "bad.jsonl:2: not JSON"),
    (b'{"a": 1}\n[1, 2]\n', "bad.jsonl:2: not a JSON object"),
    (b'{"a": "\xff"}\n', "not UTF-8 text"),
])
def test_a_bad_file_is_one_line_naming_file_and_line(tmp_path, content, message):
    path = tmp_path / "bad.jsonl"
    path.write_bytes(content)
    with pytest.raises(UserError, match=message) as error:
        list(read_objects(path, "pairs file"))
    assert "\n" not in str(error.value)


def test_a_missing_file_is_named_with_what_it_should_have_been(tmp_path):
    with pytest.raises(UserError, match="raw corpus file .*missing.jsonl does not exist"):
        list(read_objects(tmp_path / "missing.jsonl", "raw corpus file"))

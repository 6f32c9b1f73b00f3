"""Fragments and boundaries: DESIGN.md section 2 examples and the hard cases of the lexer."""

import pytest

from verifrag.syntax.fragments import (
    FragmentIndex,
    FragmentKind,
    boundary_mask,
    complete_prefix,
    fragments,
    is_complete,
)


@pytest.mark.parametrize(
    "text, complete",
    [
        ("always @(posedge", True),
        ("always @(pos", False),
        ("q <= 4'd", False),
        ("q <= 4'd3;", True),
        ("assign y = a ", True),
        ("assign y = a", False),  # `a` may still grow into `ab`
        ("y <", False),  # may become `<=`
        ("y <=", True),
        ("x ===", True),
        ("x >>", False),  # may become `>>>`
        ('$display("hi', False),
        ('$display("hi"', True),
        ("a /* open comment", False),
        ("a // line comment", True),
        ("\\escaped", False),
        ("\\escaped ", True),
        ("", True),
    ],
)
def test_completeness_examples(text, complete):
    assert is_complete(text) is complete


def test_complete_prefix_cuts_the_unfinished_fragment():
    assert complete_prefix("always @(pos") == "always @("
    assert complete_prefix("q <= 4'd") == "q <= "
    assert complete_prefix("a = 1; /* open") == "a = 1; "
    assert complete_prefix("wire [3:0] x;") == "wire [3:0] x;"


def test_sized_and_based_literals_are_one_fragment():
    texts = [f.text for f in fragments("x = 4'b1010 + 8'hzz_0F + 'hFF + 12'o7 + '0;")]
    assert {"4'b1010", "8'hzz_0F", "'hFF", "12'o7", "'0"} <= set(texts)


def test_kinds_of_significant_tokens():
    kinds = {f.text: f.kind for f in fragments('`define W 4\n$display("s") <<< \\esc  posedge foo 3.5e2')}
    assert kinds["`define"] == FragmentKind.DIRECTIVE
    assert kinds["$display"] == FragmentKind.SYSTEM_IDENTIFIER
    assert kinds['"s"'] == FragmentKind.STRING
    assert kinds["<<<"] == FragmentKind.OPERATOR
    assert kinds["\\esc"] == FragmentKind.IDENTIFIER
    assert kinds["posedge"] == FragmentKind.KEYWORD
    assert kinds["3.5e2"] == FragmentKind.NUMBER


def test_comments_and_strings_are_not_split():
    text = 'a = "b c"; // d e\n'
    assert [f.text for f in fragments(text)] == ["a", "=", '"b c"', ";"]
    index = FragmentIndex(text)
    assert index.inside_fragment(6)  # between `b` and ` c` inside the string
    assert not index.inside_fragment(13)  # inside the comment: comments belong to boundaries


def test_offsets_are_str_offsets_with_non_ascii_and_bad_bytes():
    text = "// é😀\nwire x;\x00\udcff y"
    frags = fragments(text)
    for fragment in frags:
        assert text[fragment.start : fragment.end] == fragment.text or "\udcff" in text[fragment.start : fragment.end]
    assert [f.text for f in frags][:3] == ["wire", "x", ";"]


def test_boundary_mask_maps_onto_token_ends():
    text = "assign q = 4'b1010;"
    # token ends as a BPE tokenizer might cut: "assign", " q", " =", " 4", "'b", "10", "10", ";"
    ends = [6, 8, 10, 12, 14, 16, 18, 19]
    assert boundary_mask(text, ends) == [True, True, True, False, False, False, True, True]


def test_never_raises_on_hostile_text():
    for text in ["\xff\xfe\x00garbage", "begin " * 10000, '"unterminated', "/*", "`", "'", "4'"]:
        fragments(text)
        complete_prefix(text)


def test_diagnostics_survive_nesting_too_deep_for_slang():
    from verifrag.syntax.diagnostics import parse_diagnostics, semantic_diagnostics

    deep = "module x; initial " + "begin " * 3000 + "end " * 3000 + "endmodule"
    assert [d.code for d in parse_diagnostics(deep)] == ["Unparsable"]
    result = semantic_diagnostics({"deep.v": deep, "ok.v": "module y; endmodule"})
    assert [d.code for d in result["deep.v"]] == ["Unparsable"] and result["ok.v"] == []


def test_boundaries_are_fragment_ends_and_the_end_only_when_complete():
    from verifrag.syntax.fragments import boundaries

    assert boundaries("q <= d;") == [1, 4, 6, 7]
    assert boundaries("q <= 4'd") == [1, 4]
    assert boundaries("always @(posedge") == [6, 8, 9, 16]

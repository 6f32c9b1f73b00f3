"""Turning editor or file text into something pyslang accepts, and its byte offsets back into ours.

pyslang reports UTF-8 byte offsets; everything above the syntax layer (the tokenizer's offset mapping,
Python slicing, the language server after its own UTF-16 conversion) works in str indices. This module
owns that conversion so no caller repeats it.
"""

from __future__ import annotations

import bisect


def decode_source(data: bytes) -> str:
    """Decode file bytes as UTF-8, replacing invalid bytes so a stray Latin-1 comment never stops a parse."""
    return data.decode("utf-8", errors="replace")


def sanitize(text: str) -> str:
    """Replace lone surrogates (possible in JSON-RPC strings) so the text encodes as UTF-8.

    The replacement is one character for one, so str offsets stay valid.
    """
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        return text.encode("utf-8", errors="replace").decode("utf-8")


class OffsetMap:
    """Maps UTF-8 byte offsets of a text to str offsets; identity for ASCII text.

    Only multi-byte characters are recorded, so a large ASCII file costs nothing.
    """

    def __init__(self, text: str) -> None:
        self._starts: list[int] = []  # byte offset of each multi-byte char
        self._widths: list[int] = []  # its extra bytes (UTF-8 width minus one)
        self._extra_after: list[int] = []  # extra bytes up to and including it
        if text.isascii():
            return
        extra = 0
        for index, char in enumerate(text):
            width = len(char.encode("utf-8")) - 1
            if width:
                self._starts.append(index + extra)
                self._widths.append(width)
                extra += width
                self._extra_after.append(extra)

    def to_char(self, byte_offset: int) -> int:
        """Str offset of the character at (or containing) `byte_offset`."""
        i = bisect.bisect_right(self._starts, byte_offset) - 1
        if i < 0:
            return byte_offset
        extra_before = self._extra_after[i] - self._widths[i]
        if byte_offset <= self._starts[i] + self._widths[i]:
            return self._starts[i] - extra_before
        return byte_offset - self._extra_after[i]

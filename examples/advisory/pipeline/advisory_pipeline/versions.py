"""Version strings as they appear in scanner output and OSV ranges."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field

_SEGMENT_SPLIT = re.compile(r"[.\-+_]")


@functools.total_ordering
@dataclass(frozen=True, eq=False)
class Version:
    """A dotted release version.

    Segments are kept as text so that tags such as ``1.0.0-beta`` survive
    parsing; shorter versions are padded with ``"0"`` so that ``1.2`` and
    ``1.2.0`` compare equal.
    """

    raw: str
    segments: tuple[str, ...] = field(default=())

    @classmethod
    @functools.lru_cache(maxsize=4096)
    def parse(cls, text: str) -> "Version":
        text = text.strip()
        segments = tuple(s for s in _SEGMENT_SPLIT.split(text) if s)
        return cls(raw=text, segments=segments)

    def _padded(self, width: int) -> tuple[str, ...]:
        return self.segments + ("0",) * (width - len(self.segments))

    def _keys(self, other: "Version") -> tuple[tuple[str, ...], tuple[str, ...]]:
        width = max(len(self.segments), len(other.segments))
        return self._padded(width), other._padded(width)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Version):
            return NotImplemented
        mine, theirs = self._keys(other)
        return mine == theirs

    def __lt__(self, other: "Version") -> bool:
        mine, theirs = self._keys(other)
        return mine < theirs

    def __hash__(self) -> int:
        trimmed = list(self.segments)
        while trimmed and trimmed[-1] == "0":
            trimmed.pop()
        return hash(tuple(trimmed))

    def __str__(self) -> str:
        return self.raw


def earliest(versions: list[str]) -> str | None:
    """The lowest version of a list (ties: lexically smallest spelling)."""
    candidates = [v for v in versions if v]
    if not candidates:
        return None
    return min(candidates, key=lambda v: (Version.parse(v), v))

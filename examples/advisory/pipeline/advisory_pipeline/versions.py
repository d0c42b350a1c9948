"""Version strings as they appear in scanner output and OSV ranges.

A version is split into segments at ``.``, ``-``, ``+`` and ``_``.  Segments
are kept as text so that tags such as ``1.0.0-beta`` survive parsing; the
shorter of two versions is padded with ``"0"`` so that ``1.2`` and ``1.2.0``
compare equal.
"""

import re

_SEGMENT_SPLIT = re.compile(r"[.\-+_]")
_SEGMENTS = {}  # memo: a run sees few distinct version strings


def segments(text):
    try:
        return _SEGMENTS[text]
    except KeyError:
        parsed = _SEGMENTS[text] = tuple(s for s in _SEGMENT_SPLIT.split(text.strip()) if s)
        return parsed


def _padded(a, b):
    mine, theirs = segments(a), segments(b)
    width = max(len(mine), len(theirs))
    return mine + ("0",) * (width - len(mine)), theirs + ("0",) * (width - len(theirs))


def version_lt(a, b):
    mine, theirs = _padded(a, b)
    return mine < theirs


def version_eq(a, b):
    mine, theirs = _padded(a, b)
    return mine == theirs


def earliest(versions):
    """The lowest version of a list (ties: lexically smallest spelling)."""
    best = None
    for version in versions:
        if version and (best is None or (version < best if version_eq(version, best) else version_lt(version, best))):
            best = version
    return best

"""Canonical spellings for ecosystems, packages and advisory identifiers."""

from __future__ import annotations

import re
import unicodedata

# OSV spells ecosystems its own way; observations use our short names.
_ECOSYSTEM_ALIASES: dict[str, str] = {
    "pypi": "pypi",
    "npm": "npm",
    "crates.io": "cargo",
    "maven": "maven",
    "go": "go",
    "rubygems": "rubygems",
    "nuget": "nuget",
}

# PEP 503: runs of "-", "_" and "." are equivalent in PyPI project names.
_PEP503_SEPARATORS = re.compile(r"[-_.]+")


def canonical_ecosystem(raw: str) -> str:
    key = raw.strip().lower()
    return _ECOSYSTEM_ALIASES.get(key, key)


def canonical_package(raw: str, ecosystem: str) -> str:
    """Unicode-normalised, lower-cased package name.

    Scanners disagree on composed/decomposed spellings of accented names, so
    names are brought to NFC before comparing them.
    """
    name = unicodedata.normalize("NFC", raw).strip().lower()
    if ecosystem == "pypi":
        name = _PEP503_SEPARATORS.sub("-", name)
    return name


def canonical_cve(raw: str) -> str:
    return raw.strip().upper()


def advisory_id(cve_id: str, ecosystem: str, package: str) -> str:
    return f"{ecosystem}:{package}:{cve_id}"

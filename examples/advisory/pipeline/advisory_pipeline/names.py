"""Canonical spellings for ecosystems, packages and advisory identifiers."""

import re

# OSV spells ecosystems its own way; observations use our short names.
_ECOSYSTEM_ALIASES = {
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


def canonical_ecosystem(raw):
    key = raw.strip().lower()
    return _ECOSYSTEM_ALIASES.get(key, key)


def canonical_package(raw, ecosystem):
    """Unicode-normalised, lower-cased package name.

    Scanners disagree on composed/decomposed spellings of accented names, so
    names are brought to NFC before comparing them.
    """
    name = raw
    if not name.isascii():  # NFC leaves ASCII alone: only other names need unicodedata
        import unicodedata

        name = unicodedata.normalize("NFC", name)
    name = name.strip().lower()
    if ecosystem == "pypi":
        name = _PEP503_SEPARATORS.sub("-", name)
    return name


def canonical_cve(raw):
    return raw.strip().upper()


def advisory_id(cve_id, ecosystem, package):
    return f"{ecosystem}:{package}:{cve_id}"

"""Regexes of the configuration files: checking them, and fast alternations of many.

The checks serve every file of patterns (lexicons, regions.yaml). On alternations: Python's
regex engine tries alternatives one by one at every word start, so a class of 60 words (or a
gazetteer of 400 aliases) costs 60 (400) attempts per word. Grouping the alternatives by their
literal first character lets a single character test skip a group.
"""

from __future__ import annotations

import re
from collections import defaultdict

_SPECIAL = set("\\.^$*+?{}[]()|")


def top_level_alternatives(pattern: str) -> list[str]:
    """``pattern`` split at each ``|`` outside groups and classes ("a|b(c|d)" -> a, b(c|d))."""
    parts: list[str] = []
    depth = 0
    in_class = escaped = False
    start = 0
    for i, ch in enumerate(pattern):
        if escaped:
            escaped = False
        elif ch == "\\":
            escaped = True
        elif in_class:
            in_class = ch != "]"
        elif ch == "[":
            in_class = True
        elif ch in "()":
            depth += 1 if ch == "(" else -1
        elif ch == "|" and depth == 0:
            parts.append(pattern[start:i])
            start = i + 1
    return [*parts, pattern[start:]]


def _literal_head(fragment: str) -> str | None:
    """The fragment's first character when it is a plain literal that nothing quantifies."""
    if len(fragment) < 2 or fragment[0] in _SPECIAL or len(top_level_alternatives(fragment)) > 1:
        return None
    if fragment[1] in "*+?{":
        return None  # "a?..." may start with something else
    return fragment[0]


# Lexicon fragments and gazetteer aliases are lower-cased before they are compiled, which
# turns \S into \s, \W into \w, \B into \b ...: such a pattern silently matches something else.
_UPPER_ESCAPE = re.compile(r"(?<!\\)(?:\\\\)*\\[A-Z]")


def check_lowercase_safe(patterns: tuple[str, ...] | list[str], where: str = "") -> None:
    """Raise ValueError naming the first pattern with an escape that lower-casing changes."""
    for pattern in patterns:
        if _UPPER_ESCAPE.search(pattern):
            raise ValueError(
                f"{where}regex {pattern!r}: upper-case escapes change meaning when "
                "lower-cased; write [^ ] or a character class instead"
            )


def check_patterns(patterns: tuple[str, ...] | list[str], where: str = "") -> None:
    """Raise ValueError naming the first pattern that does not compile or lower-cases wrong."""
    for pattern in patterns:
        try:
            re.compile(pattern)
        except re.error as exc:
            raise ValueError(f"{where}bad regex {pattern!r}: {exc}") from None
    check_lowercase_safe(patterns, where)


def grouped_alternation(fragments: list[str] | tuple[str, ...]) -> str:
    """One non-capturing alternation equivalent to ``(?:f1)|(?:f2)|...``, grouped by head."""
    groups: dict[str, list[str]] = defaultdict(list)
    others: list[str] = []
    for frag in dict.fromkeys(fragments):  # drop duplicates, keep order
        head = _literal_head(frag)
        if head is None:
            others.append(f"(?:{frag})")
        else:
            groups[head].append(f"(?:{frag[1:]})")
    parts = [f"{re.escape(head)}(?:{'|'.join(rest)})" for head, rest in groups.items()] + others
    return "(?:" + "|".join(parts) + ")" if parts else "(?!)"

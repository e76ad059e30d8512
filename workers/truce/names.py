"""The parties and places of regions.yaml, compiled for the extractor, per language.

A place is an alias of one of the item's regions that names somewhere inside it: not the
region itself (an alias found in the region's English name: "sudan", "gaza"), not a party
("kyiv", "hamas"), not one of the events files' ``not_places`` (countries and armed groups in
every language). It is given as written, title-cased for Latin scripts ("Khan Younis").
"""

from __future__ import annotations

import re
from functools import lru_cache

from core.regexutil import grouped_alternation
from core.regions import RegionsFile
from workers.classifier.gazetteer import alias_pattern
from workers.classifier.text import fold
from workers.truce.doc import Ctx
from workers.truce.vocab import EventVocab
from workers.truce.who import Party

_NON_LATIN = 0x370  # Greek and up: scripts that have no title case worth giving


def _alternation(patterns: list[str]) -> str:
    return grouped_alternation(sorted(dict.fromkeys(patterns), key=len, reverse=True))


class Names:
    """Parties per language and places per region, with the region time zones."""

    def __init__(self, spec: RegionsFile, vocabs: dict[str, EventVocab]) -> None:
        """Compile ``spec`` with the extra party names and non-places of ``vocabs``."""
        self.timezones = {r.id: r.timezone for r in spec.regions}
        self.region_parties = {r.id: r.parties for r in spec.regions}
        self._vocabs = vocabs
        self._party_aliases: dict[str, dict[str, list[str]]] = {}
        for lang, vocab in vocabs.items():
            table = {name: [alias_pattern(a) for a in aliases]
                     for name, aliases in spec.parties.items()}
            for name, extra in vocab.party_aliases.items():
                table.setdefault(name, []).extend(alias_pattern(a) for a in extra)
            self._party_aliases[lang] = table
        self._party_full = {
            lang: {n: re.compile(_alternation(a)) for n, a in table.items() if a}
            for lang, table in self._party_aliases.items()
        }
        self._places: dict[str, re.Pattern[str] | None] = {}
        for region in spec.regions:
            name = fold(region.name)
            kept = [alias_pattern(a) for a in region.aliases
                    if not re.search(alias_pattern(a), name)]
            self._places[region.id] = (
                re.compile(rf"(?<!\w)(?:{_alternation(kept)})(?!\w)") if kept else None
            )
        self._scanner = lru_cache(maxsize=256)(self._compile_scanner)

    def _compile_scanner(self, lang: str, names: frozenset[str]) -> re.Pattern[str] | None:
        table = self._party_aliases.get(lang, {})
        aliases = [a for n in sorted(names) for a in table.get(n, ())]
        return re.compile(rf"(?<!\w)(?:{_alternation(aliases)})(?!\w)") if aliases else None

    def parties(self, ctx: Ctx, lang: str, regions: tuple[str, ...]) -> list[Party]:
        """Mentions of the parties of ``regions`` in the item, in text order."""
        names = frozenset(p for r in regions for p in self.region_parties.get(r, ()))
        rx = self._scanner(lang, names) if names else None
        if rx is None:
            return []
        full = self._party_full[lang]
        out = []
        for m in ctx.doc.matches(rx):
            name = next((n for n in sorted(names) if n in full and full[n].fullmatch(m.group(0))),
                        None)
            if name is not None:
                out.append(Party(m.start(), m.end(), name))
        return out

    def place(self, ctx: Ctx, lang: str, regions: tuple[str, ...]) -> str:
        """The first sub-national place of ``regions`` the item names, as written."""
        hits: list[re.Match[str]] = []
        for region in regions:
            rx = self._places.get(region)
            hits += [m for m in ctx.doc.matches(rx)] if rx is not None else []
        full = self._party_full.get(lang, {})
        for m in sorted(hits, key=lambda m: m.start()):
            words = m.group(0)
            if any(rx.fullmatch(words) for rx in full.values()):
                continue
            if any((rx := v.rx("not_places")) is not None and rx.fullmatch(words)
                   for v in self._vocabs.values()):
                continue
            return self._display(ctx.doc.original(m.start(), m.end()), ctx.vocab)
        return ""

    @staticmethod
    def _display(text: str, vocab: EventVocab) -> str:
        words = text.split()
        drop = vocab.rx("place_drop")
        while len(words) > 1 and drop is not None and drop.fullmatch(fold(words[-1])):
            words.pop()
        if any(ord(ch) >= _NON_LATIN for ch in "".join(words)):
            return " ".join(words)
        return " ".join("-".join(p[:1].upper() + p[1:] for p in w.split("-")) for w in words)

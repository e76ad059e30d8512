"""The truce event one classified item reports (core/models.py TruceEvent).

Its kind, times and duration and, for violations, who accuses whom, where, with what and
the toll stated.

The code is the same for every language: the words come from the classifier's lexicons
(config/lexicons/) and the events vocabularies (config/events/), the parties, places and time
zones from config/regions.yaml. Only the headline and the first lede sentences are read
(workers/truce/doc.py), so an item costs a few dozen regex passes over under 1 KB of text.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from core.config_files import ConfigError
from core.models import Label, TruceEvent
from core.regions import REGIONS_FILE, load_regions
from workers.classifier.lexicon import Lexicon, load_lexicons
from workers.truce.doc import Ctx, Doc
from workers.truce.duration import duration_h
from workers.truce.kind import (
    Verdict,
    ceasefire_kind,
    event_kind,
    extension_below,
    violation_kind,
)
from workers.truce.names import Names
from workers.truce.timex import Mode, times
from workers.truce.vocab import EVENTS_DIR, EventVocab, load_vocabs
from workers.truce.who import accusation, attack_kind, casualties

FALLBACK_LANG = "en"
# Announcements look ahead ("agreed to a truce from Sunday"): a weekday is the next one.
# Reports of what happened ("took effect on Monday") mean the nearest one, before or after.
# "Due to expire on Friday" looks ahead too.
ANNOUNCED: frozenset[Verdict | None] = frozenset({"call", "agreed", "extended", "expiring"})


class EventExtractor:
    """Extracts TruceEvents; build once with ``from_config``, then call ``extract`` per item."""

    def __init__(
        self, lexicons: dict[str, Lexicon], vocabs: dict[str, EventVocab], names: Names
    ) -> None:
        """Hold compiled vocabularies (see ``from_config``)."""
        if FALLBACK_LANG not in vocabs or FALLBACK_LANG not in lexicons:
            raise ConfigError(f"the {FALLBACK_LANG!r} lexicon and events vocabulary are required")
        self.lexicons = lexicons
        self.vocabs = vocabs
        self.names = names

    @classmethod
    def from_config(cls, config_dir: Path) -> EventExtractor:
        """Load lexicons, events vocabularies and regions; ConfigError names a bad file."""
        regions = load_regions(config_dir / REGIONS_FILE)
        lexicons = load_lexicons(config_dir / "lexicons")
        vocabs = load_vocabs(config_dir / EVENTS_DIR, frozenset(regions.parties))
        return cls(lexicons, vocabs, Names(regions, vocabs))

    def extract(
        self,
        *,
        title: str,
        text: str,
        lang: str,
        label: Label,
        regions: tuple[str, ...],
        published: datetime,
    ) -> TruceEvent:
        """The truce event the item reports; unknown facts stay unset."""
        if label == "none":
            return TruceEvent()
        lang = lang if lang in self.vocabs and lang in self.lexicons else FALLBACK_LANG
        ctx = Ctx(Doc(title, text), self.lexicons[lang], self.vocabs[lang])
        verdict = violation_kind(ctx) if label == "violation" else ceasefire_kind(ctx)
        if verdict == "call" and extension_below(ctx) and duration_h(ctx, "extended"):
            # "Army suspends ceasefire talks" over "had agreed to extend the truce by a further
            # five days": the talks lead, but an extension stated with its length is the event.
            verdict = "extended"
        tz = self.names.timezones.get(regions[0], "UTC") if regions else "UTC"
        mode: Mode = "next" if verdict in ANNOUNCED else "nearest"
        starts, ends, day_only = times(ctx, tz=tz, published=published, mode=mode)
        # Due to end: an announced end makes it "expired" with that end (still ahead).
        kind = event_kind(verdict, has_end=ends is not None)
        times_ = {"kind": kind, "starts": starts, "ends": ends,
                  "starts_day_only": day_only and starts is not None,
                  "duration_h": duration_h(ctx, kind)}
        if label != "violation":
            return TruceEvent.model_validate(times_)
        accuser, accused = accusation(ctx, self.names.parties(ctx, lang, regions))
        killed, wounded = casualties(ctx)
        return TruceEvent.model_validate(
            times_
            | {
                "accuser": accuser,
                "accused": accused,
                "place": self.names.place(ctx, lang, regions),
                "attack": attack_kind(ctx),
                "killed": killed,
                "wounded": wounded,
            }
        )

"""The classifier's features: their names (the model's columns) and the rule family of each."""

from __future__ import annotations

# Order matters: it is the column order of the fitted model's weights.
FEATURES: tuple[str, ...] = (
    "truce",  # a truce term (not a false friend) somewhere in the item
    "truce_title",  # ... in the headline
    "truce_lede",  # ... in the first lede sentence
    "truce_many",  # ... in two or more sentences
    "false_friend",  # a truce word only in an unrelated sense (Armistice Day, trade truce)
    "breach_any",  # any breach family below fired (one shared weight, so rare families count)
    "breach_many",  # two or more distinct breach families fired
    "violate",  # "violated / breached / broke the truce" (not hypothetical)
    "accused",  # ... attributed: accuses / blames / denies
    "blame_truce",  # accusation / denial next to a truce word, hostilities in the item
    "violate_hypo",  # "will respond to any violation", "if the truce is broken"
    "count",  # monitors' counts of violations
    "despite",  # hostilities "despite" a truce
    "collapse",  # the truce collapsed / failed / broke down
    "collapse_hostile",  # ... and hostilities are reported in the item
    "collapse_hypo",  # "warns the truce could collapse"
    "resume",  # fighting resumed / renewed strikes
    "resume_end",  # ... after the truce ended or collapsed
    "soon_after",  # hostilities minutes / hours after a truce began
    "continuing",  # fighting continues / rages (in an item with a truce)
    "continuing_agreed",  # ... while a truce is agreed, extended, holding or ending
    "during",  # hostilities during / amid a truce
    "strain",  # hostilities testing / threatening a fragile truce
    "ended",  # the truce ended / expired
    "pending",  # the truce has not started yet ("before Friday", "due to take effect")
    "hostile_truce",  # hostilities in a sentence with a truce term
    "hostile",  # hostilities anywhere in the item
    "call",  # calls, talks, proposals, votes, protests about a truce
    "agree",  # agreed, signed, announced, extended
    "hold",  # holding, observed, calm
    "hypo",  # modality / condition next to a truce term
    "negated",  # "no ceasefire"
    "background",  # historical framing
    "liveblog",  # live blog / round-up headline
    "passing",  # truce only deep in the lede, not in headline or first sentence
    "region",  # a known conflict region or party is named
    "unanchored",  # a truce word with no region and no hostilities: likely another sense
    "juxtaposed",  # hostilities and a truce side by side in one sentence, the truce not merely
    # called for, pending or hypothetical ("Clashes rock Sudan ceasefire")
    "after_truce",  # hostilities after / since a truce began, ended or was called off
    "truce_after_fighting",  # a truce agreed after the fighting (tie-break: ceasefire)
    "extend_hostile",  # a truce extended or renewed while the item reports hostilities
    "in_force_hostile",  # hostilities beside a truce in its first or final days ("clashes as
    # the truce is set to expire"): it is in force, so they breach it
    "adjacent_in_force",  # an attack in one sentence, "the truce took effect / holds" in the
    # next, no connective between them
)

# Feature -> rule family reported as the explanation.
RULE_OF: dict[str, str] = {
    "violate": "breach",
    "accused": "accusation",
    "count": "monitor_count",
    "despite": "despite_truce",
    "collapse": "collapse",
    "collapse_hostile": "collapse_renewed_fighting",
    "resume": "renewed_fighting",
    "resume_end": "renewed_fighting_after_truce",
    "soon_after": "hostilities_after_start",
    "during": "hostilities_during_truce",
    "strain": "truce_under_fire",
    "continuing_agreed": "fighting_continues_under_truce",
    "juxtaposed": "hostilities_beside_truce",
    "after_truce": "hostilities_after_truce",
    "extend_hostile": "fighting_while_truce_extended",
    "in_force_hostile": "hostilities_while_truce_in_force",
    "adjacent_in_force": "attack_beside_truce_in_force",
    "truce": "truce_term",
    "call": "call_talks_vote_protest",
    "agree": "agreement",
    "hold": "truce_holding",
    "ended": "truce_ended",
    "pending": "not_yet_in_force",
    "violate_hypo": "hypothetical_breach",
    "collapse_hypo": "hypothetical_collapse",
    "hypo": "conditional",
    "passing": "passing_mention",
    "liveblog": "live_blog",
    "truce_title": "truce_in_headline",
    "unanchored": "no_conflict_context",
}

BREACH: tuple[str, ...] = (
    "violate",
    "collapse",
    "count",
    "despite",
    "collapse_hostile",
    "resume",
    "resume_end",
    "soon_after",
    "during",
    "strain",
    "continuing_agreed",
    "after_truce",
    "extend_hostile",
    "in_force_hostile",
    "adjacent_in_force",
)

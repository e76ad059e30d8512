"""Rule priors for fitting: pseudo-items stating what rare rule families mean.

The training sets have few or no monitor counts, threats or "before it starts" items. These
join every training fold but are never scored, so the out-of-fold figures stay honest.
"""

from __future__ import annotations

# Each prior: the features that fire (space-separated) and the label they mean.
PRIORS_SPEC: tuple[tuple[str, str], ...] = (
    ("truce truce_title count violate breach_any region", "violation"),
    ("truce count violate breach_any breach_many hostile region", "violation"),
    ("truce truce_title violate accused breach_any region", "violation"),
    ("truce truce_title violate accused breach_any", "violation"),
    ("truce truce_title despite hostile hostile_truce breach_any", "violation"),
    ("truce truce_title violate_hypo hypo region", "ceasefire"),
    ("truce truce_title violate_hypo hypo", "ceasefire"),
    ("truce truce_title collapse_hypo hypo region", "ceasefire"),
    ("truce truce_title pending hostile hostile_truce agree region", "ceasefire"),
    ("truce truce_title call region", "ceasefire"),
    ("truce truce_title hold region", "ceasefire"),
    ("truce truce_title during hostile hostile_truce juxtaposed breach_any", "violation"),
    ("truce truce_title during hostile hostile_truce breach_any region", "violation"),
    ("truce truce_title in_force_hostile hostile hostile_truce breach_any", "violation"),
    ("truce truce_title extend_hostile agree hostile breach_any region", "violation"),
    ("truce truce_lede after_truce ended hostile hostile_truce breach_any", "violation"),
    ("truce truce_title strain hostile breach_any call region", "violation"),
    ("truce truce_title truce_after_fighting agree hostile hostile_truce region", "ceasefire"),
    ("truce truce_title during hold region", "ceasefire"),
    ("truce truce_lede adjacent_in_force hostile breach_any region", "violation"),
    ("truce truce_many adjacent_in_force hostile breach_any region", "violation"),
    ("truce passing adjacent_in_force hostile breach_any region", "violation"),
    ("truce truce_title truce_lede background agree region", "none"),
    ("truce truce_title truce_lede background hostile region", "none"),
    ("truce truce_title background region", "none"),
    ("truce truce_title truce_lede blame_truce ended hostile hostile_truce region", "violation"),
    ("truce truce_title false_friend unanchored", "none"),
    ("truce truce_title unanchored agree", "none"),
)
PRIORS: tuple[tuple[tuple[str, ...], str], ...] = tuple(
    (tuple(feats.split()), label) for feats, label in PRIORS_SPEC
)
PRIOR_WEIGHT = 4  # each prior counts as this many items

"""Ceasefire-violation classifier: lexicon rules, calibrated scores, regions and story grouping."""

"""Tests of the pipeline worker roles."""

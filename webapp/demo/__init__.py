"""`flask demo`: realistic demo events (people signing in around the world, attacks,
administrators' changes with diffs, errors, an external app's events), generated
deterministically from a seed and bulk-loaded fast enough to build benchmark databases."""

from webapp.demo.loader import LoadResult, load_demo

__all__ = ["LoadResult", "load_demo"]

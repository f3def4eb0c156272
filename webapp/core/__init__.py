"""Foundations every package stands on: configuration, extensions, column types, database
setup, logging, lookups."""

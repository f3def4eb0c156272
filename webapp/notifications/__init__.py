"""Notifications: matching events to rules, and delivering what matched through transports."""

"""Maintenance scripts run as modules (`python -m scripts.NAME`): docs and screenshots."""

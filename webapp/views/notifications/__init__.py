"""Notification pages: the bell and history (every user), rules, transports, webhook
mappings, policies and the delivery ledger (administrators)."""

"""The outbox: record events handed to automations and webhook subscriptions."""

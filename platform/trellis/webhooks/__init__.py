"""Outbound webhooks: subscriptions, deliveries and the guarded HTTP sender."""

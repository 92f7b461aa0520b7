"""Workflow automation: triggers and before-save updates, the outbox dispatcher, and the
execution of after-save actions with retries, idempotency and a run log."""

"""The records store: one JSONB table for every object's records, with history and events."""

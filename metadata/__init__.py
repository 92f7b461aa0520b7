"""The metamodel: object and field definitions, field types, revisions, caching, indexes."""

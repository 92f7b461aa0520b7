"""Built-in plugins: Trellis's own behaviour, registered through the public hooks."""

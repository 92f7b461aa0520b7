"""Example apps shipped with Trellis, importable as ``trellis.examples``."""

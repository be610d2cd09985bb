"""The application runtime: lifecycle, event bus, repositories (layer ``runtime`` of DESIGN.md)."""

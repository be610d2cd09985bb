"""The application runtime: lifecycle, event bus, repositories, services (docs/architecture.md)."""

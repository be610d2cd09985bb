"""Networking: the HTTP server, the OpenAPI contract and router (docs/architecture.md)."""

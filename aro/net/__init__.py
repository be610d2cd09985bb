"""Networking: the HTTP server, the OpenAPI contract and router (layer ``net`` of DESIGN.md)."""

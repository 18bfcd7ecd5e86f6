"""Tenants: created shipments, the path prefix and header, tokens bound to tenants, clocks."""

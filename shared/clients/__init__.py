"""Typed clients for calls from one KPP service to another (one place per callee)."""

"""Clients of the outside systems session-api talks to."""

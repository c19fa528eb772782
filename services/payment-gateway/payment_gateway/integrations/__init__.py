"""Clients for the third parties the gateway talks to; each lives in its own package."""

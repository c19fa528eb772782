"""Staff review of payments the gateway held for review."""

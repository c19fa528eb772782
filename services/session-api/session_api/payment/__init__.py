"""Payment attempts: one gateway payment each, their status, history and live stream."""

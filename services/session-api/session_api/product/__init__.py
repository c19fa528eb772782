"""The shop's products."""

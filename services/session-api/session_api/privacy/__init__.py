"""Erasure: an account's personal data anonymised, its payments and wallet kept."""

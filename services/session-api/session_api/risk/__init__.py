"""Suspicious activity flagged for staff: many failed payments from one phone, many phones paying
for one account, many accounts paying from one phone. Nothing is blocked (the rate limits do
that); staff decide."""

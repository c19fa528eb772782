"""Wallets: an append-only ledger, a balance kept with it, and deposits paid by M-Pesa."""

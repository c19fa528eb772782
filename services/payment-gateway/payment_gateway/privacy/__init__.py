"""Erasure of a payer's personal data from payments whose ids, amounts, receipts and dates stay."""

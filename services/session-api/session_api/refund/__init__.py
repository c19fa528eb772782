"""Staff refunds of paid payments through M-Pesa Reversal."""

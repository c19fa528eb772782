"""daraja-simulator: a faithful stand-in for Safaricom's Daraja (OAuth, STK Push and Query,
callbacks, Transaction Status, Pull Transactions) with customer behaviours and faults on demand."""

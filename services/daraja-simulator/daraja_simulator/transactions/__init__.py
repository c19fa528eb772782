"""Transaction Status and Pull Transactions: the reconciliation APIs, answering from the ledger."""

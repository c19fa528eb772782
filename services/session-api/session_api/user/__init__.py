"""User accounts: clients, therapists and admins."""

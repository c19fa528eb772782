"""Therapists: their public profiles and session rates; admins create them."""

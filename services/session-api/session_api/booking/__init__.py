"""Therapy-session bookings: request, therapist approval, payment, confirmation."""

"""session-api: users, therapy-session bookings, orders and wallet deposits.

Everything is paid through the payment gateway.
"""

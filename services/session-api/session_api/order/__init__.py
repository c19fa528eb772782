"""Shop orders: prices captured at order time, a delivery fee, one M-Pesa payment."""

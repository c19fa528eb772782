"""payment-gateway: M-Pesa STK Push payments.

Daraja OAuth, STK Push and Query, callbacks, the payment state machine, status polling,
reconciliation and signed events to other services.
"""

"""The receiver of the gateway's signed payment events."""

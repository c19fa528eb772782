"""In-app notifications: booking requests and decisions, payment outcomes, session reminders."""

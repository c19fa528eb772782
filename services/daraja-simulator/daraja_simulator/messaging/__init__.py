"""The simulator's stand-ins for a mail server (SMTP) and an SMS provider (Africa's Talking's HTTP
API with delivery reports), so session-api's notifications run and are tested end to end."""

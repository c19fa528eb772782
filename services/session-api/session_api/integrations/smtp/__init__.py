"""Email over SMTP with aiosmtplib."""

from session_api.integrations.smtp.client import Attachment, Mailer, OutgoingEmail

__all__ = ["Attachment", "Mailer", "OutgoingEmail"]

"""The providers the worker sends through, built from settings."""

from __future__ import annotations

from session_api.config import Settings
from session_api.integrations.africastalking import SmsClient
from session_api.integrations.smtp import Mailer
from session_api.notification.content import Sender
from session_api.notification.delivery import Providers


def build_providers(settings: Settings) -> Providers:
    password = settings.SMTP_PASSWORD.get_secret_value() if settings.SMTP_PASSWORD else None
    return Providers(
        mailer=Mailer(
            host=settings.SMTP_HOST,
            port=settings.SMTP_PORT,
            security=settings.SMTP_SECURITY,
            username=settings.SMTP_USERNAME,
            password=password,
            timeout_s=settings.SMTP_TIMEOUT_S,
            sender_name=settings.BUSINESS_NAME,
            sender_address=settings.MAIL_FROM,
        ),
        sms=SmsClient(
            url=settings.SMS_URL,
            username=settings.SMS_USERNAME,
            api_key=settings.SMS_API_KEY.get_secret_value(),
            sender_id=settings.SMS_SENDER_ID,
            timeout_s=settings.SMS_TIMEOUT_S,
        ),
        sender=Sender(
            business_name=settings.BUSINESS_NAME,
            paybill=settings.BUSINESS_PAYBILL,
            public_url=settings.PUBLIC_URL,
        ),
    )

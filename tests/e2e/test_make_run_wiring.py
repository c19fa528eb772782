"""`make run` starts every service on its defaults: those defaults must point at each other."""

from urllib.parse import urlsplit

from daraja_simulator.config import Settings as SimulatorSettings
from payment_gateway.config import Settings as GatewaySettings
from session_api.config import Settings as SessionSettings


class TestDevelopmentDefaultsAgree:
    def test_gateway_calls_the_simulator_with_an_app_and_shortcode_it_knows(self) -> None:
        gateway, simulator = GatewaySettings(), SimulatorSettings()
        assert urlsplit(gateway.DARAJA_BASE_URL).port == simulator.PORT
        apps = {(a.consumer_key, a.consumer_secret) for a in simulator.APPS}
        assert (
            gateway.DARAJA_CONSUMER_KEY.get_secret_value(),
            gateway.DARAJA_CONSUMER_SECRET.get_secret_value(),
        ) in apps
        shortcode = simulator.shortcode(gateway.DARAJA_SHORTCODE)
        assert shortcode is not None
        assert shortcode.passkey == gateway.DARAJA_PASSKEY.get_secret_value()

    def test_session_api_calls_the_gateway_with_a_key_it_accepts(self) -> None:
        gateway, session = GatewaySettings(), SessionSettings()
        assert urlsplit(session.GATEWAY_URL).port == gateway.PORT
        keys = {key.get_secret_value() for key in gateway.API_KEYS}
        assert session.GATEWAY_API_KEY.get_secret_value() in keys

    def test_gateway_signs_events_with_the_secret_session_api_verifies(self) -> None:
        gateway, session = GatewaySettings(), SessionSettings()
        subscribers = {
            urlsplit(endpoint.url).port: endpoint.secret.get_secret_value()
            for endpoint in gateway.WEBHOOK_ENDPOINTS
        }
        assert session.PORT in subscribers
        assert subscribers[session.PORT] == session.WEBHOOK_SECRET.get_secret_value()

    def test_the_web_apps_paybill_is_the_gateways_shortcode(self) -> None:
        assert SessionSettings().BUSINESS_PAYBILL == GatewaySettings().DARAJA_SHORTCODE

    def test_session_api_mails_and_texts_through_the_simulator_which_reports_back(self) -> None:
        session, simulator = SessionSettings(), SimulatorSettings()
        assert (session.SMTP_HOST, session.SMTP_PORT) == (simulator.SMTP_HOST, simulator.SMTP_PORT)
        assert urlsplit(session.SMS_URL).port == simulator.PORT
        assert (session.SMS_USERNAME, session.SMS_API_KEY.get_secret_value()) == (
            simulator.SMS_USERNAME,
            simulator.SMS_API_KEY,
        )
        assert simulator.SMS_DELIVERY_REPORT_URL is not None
        report = urlsplit(simulator.SMS_DELIVERY_REPORT_URL)
        assert report.port == session.PORT
        assert report.path == (
            f"/v1/notifications/sms/reports/{session.SMS_REPORT_TOKEN.get_secret_value()}"
        )

"""Daraja credentials in the clear, and sealing them into (or opening them from) their row."""

from __future__ import annotations

from dataclasses import dataclass, field

from payment_gateway.credentials import envelope
from payment_gateway.credentials.envelope import Keyring
from payment_gateway.models import SECRET_COLUMNS, DarajaCredential, ShortcodeType

TABLE = DarajaCredential.__tablename__


@dataclass(frozen=True)
class StoredCredentials:
    """One environment's credentials as an admin gave them (secrets in the clear: keep it in
    memory only, never log it)."""

    environment: str
    shortcode: str
    shortcode_type: ShortcodeType
    callback_base_url: str
    # Kept out of repr: a dataclass in a log line or a traceback shows its fields.
    consumer_key: str = field(repr=False)
    consumer_secret: str = field(repr=False)
    passkey: str = field(repr=False)
    initiator_name: str = field(repr=False)
    security_credential: str = field(repr=False)

    def secret(self, column: str) -> str:
        value: str = getattr(self, column)
        return value


def seal_row(row: DarajaCredential, credentials: StoredCredentials, *, keyring: Keyring) -> None:
    """Write ``credentials`` into ``row`` (its id set) under a fresh data key wrapped by the
    keyring's current key."""
    data_key = envelope.new_data_key()
    row.key_id, row.data_key = keyring.wrap(
        data_key, aad=envelope.associated_data(TABLE, row.id, envelope.DATA_KEY_COLUMN)
    )
    for column in SECRET_COLUMNS:
        sealed = envelope.seal(
            data_key,
            credentials.secret(column).encode(),
            aad=envelope.associated_data(TABLE, row.id, column),
        )
        setattr(row, column, sealed)
    row.environment = credentials.environment
    row.shortcode = credentials.shortcode
    row.shortcode_type = credentials.shortcode_type
    row.callback_base_url = credentials.callback_base_url


def open_row(row: DarajaCredential, *, keyring: Keyring) -> StoredCredentials:
    """The credentials of ``row``; `UnknownEncryptionKey` or `CredentialUnreadable` otherwise."""
    data_key = keyring.unwrap(
        row.key_id,
        row.data_key,
        aad=envelope.associated_data(TABLE, row.id, envelope.DATA_KEY_COLUMN),
    )
    secrets = {
        column: envelope.open_sealed(
            data_key, getattr(row, column), aad=envelope.associated_data(TABLE, row.id, column)
        ).decode()
        for column in SECRET_COLUMNS
    }
    return StoredCredentials(
        environment=row.environment,
        shortcode=row.shortcode,
        shortcode_type=ShortcodeType(row.shortcode_type),
        callback_base_url=row.callback_base_url,
        **secrets,
    )

"""``engine login``: ask for the SmartAPI credentials and store them in the OS keyring.

Asks for the client code, then the PIN, the TOTP secret and the API key without echoing
them. The TOTP secret is checked to be a base32 key before anything is stored. Where no
keyring is available the command says which environment variables to set instead.
Nothing typed here is printed or logged.
"""

from __future__ import annotations

import argparse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--client-code", default=None, help="the Angel One client code (asked when omitted)"
    )


def run(args: argparse.Namespace) -> int:
    import getpass

    from adapters.smartapi.auth import current_totp
    from adapters.smartapi.redact import install_log_redaction
    from adapters.smartapi.secrets import Credentials, store_credentials
    from engine.errors import UserInputError

    install_log_redaction()
    client_code = (args.client_code or input("client code: ")).strip().upper()
    pin = getpass.getpass("PIN: ").strip()
    totp_secret = getpass.getpass("TOTP secret (base32 key): ").strip().replace(" ", "")
    api_key = getpass.getpass("API key: ").strip()
    missing = [
        n
        for n, v in (
            ("client code", client_code),
            ("PIN", pin),
            ("TOTP secret", totp_secret),
            ("API key", api_key),
        )
        if not v
    ]
    if missing:
        raise UserInputError(f"nothing was stored: {', '.join(missing)} left empty")
    credentials = Credentials.of(client_code, pin, totp_secret, api_key)
    current_totp(credentials.totp_secret)  # UserInputError when it is not base32
    backend = store_credentials(credentials)
    print(f"SmartAPI credentials for {client_code} stored in the OS keyring ({backend})")
    return 0

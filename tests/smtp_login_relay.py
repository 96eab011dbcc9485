"""An SMTP relay for the tests that, like a real mail provider, demands STARTTLS and then a
login: aiosmtpd (PyPI) with one user whose password is read from a file, saving what it
receives into a maildir. Prints "ready" once it accepts connections.

    python3 tests/smtp_login_relay.py PORT CERT KEY MAILDIR USER PASSWORD_FILE
"""

import ssl
import sys
import time

from aiosmtpd.controller import Controller
from aiosmtpd.handlers import Mailbox
from aiosmtpd.smtp import AuthResult, LoginPassword

port, cert, key, maildir, user, password_file = sys.argv[1:7]
with open(password_file, "rb") as f:
    password = f.read().strip()


def authenticator(server, session, envelope, mechanism, auth_data):
    ok = (
        isinstance(auth_data, LoginPassword)
        and auth_data.login == user.encode()
        and auth_data.password == password
    )
    return AuthResult(success=ok, handled=False)


tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
tls.load_cert_chain(cert, key)
relay = Controller(
    Mailbox(maildir),
    hostname="127.0.0.1",
    port=int(port),
    tls_context=tls,
    require_starttls=True,
    authenticator=authenticator,
    auth_required=True,
    auth_require_tls=True,
)
relay.start()
print("ready", flush=True)
while True:
    time.sleep(3600)

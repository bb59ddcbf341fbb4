"""A real OpenID Connect provider for the tests (panva's certified ``oidc-provider`` on Node), and a driver of
its login page over HTTP for the tests that do not need a browser.

``tests/directory/oidc_provider.mjs`` is started on a free port of 127.0.0.1 with one client whose redirect
URIs are ``<base>/login/oidc/callback`` for each given base URL; its login page accepts any password
(development interactions) for the people it knows: jana, karla, nomail, unverified.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import requests

from tests.directory.slapd import free_port

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = Path(__file__).with_name("oidc_provider.mjs")
CLIENT_ID = "learning-platform"
CLIENT_SECRET = "secret-of-the-learning-platform-client"  # noqa: S105  a test provider's client
SUBJECTS = {"jana": "2f6a1d0e-5b0c-4d8e-9a57-0c1f6f0e1a01", "karla": "2f6a1d0e-5b0c-4d8e-9a57-0c1f6f0e1a02"}


def available() -> bool:
    return shutil.which("node") is not None and (ROOT / "node_modules" / "oidc-provider" / "package.json").is_file()


class OidcProvider:
    def __init__(self, bases: list[str]):
        self.port = free_port()
        self.issuer = f"http://127.0.0.1:{self.port}"
        self.bases = bases
        self.process: subprocess.Popen | None = None

    def start(self) -> OidcProvider:
        self.process = subprocess.Popen(
            ["node", str(SCRIPT), str(self.port), CLIENT_ID, CLIENT_SECRET, *self.bases], cwd=ROOT,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        line = self.process.stdout.readline()  # "ready" once it listens
        if line.strip() != "ready":
            self.stop()
            raise RuntimeError(f"oidc-provider did not start: {line}{self.process.stderr.read()}")
        return self

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def app_config(self, **overrides) -> dict:
        """The settings of an app that signs people in through this provider (http allowed: tests only)."""
        return {"OIDC_ISSUER": self.issuer, "OIDC_CLIENT_ID": CLIENT_ID, "OIDC_CLIENT_SECRET": CLIENT_SECRET,
                "OIDC_LABEL": "Dienstkonto", "OIDC_CREATE_PEOPLE": True, "OIDC_TIMEOUT": 5,
                "OIDC_ALLOW_HTTP": True, **overrides}

    def sign_in(self, authorization_url: str, login: str, browser: requests.Session | None = None) -> str:
        """Go through the provider's own login page as ``login``: the URL it sends the browser back to."""
        browser = browser or requests.Session()
        url = authorization_url
        for _ in range(10):
            response = browser.get(url, allow_redirects=False, timeout=10)
            if response.status_code in {302, 303}:
                url = urljoin(url, response.headers["Location"])
                if not url.startswith(self.issuer):
                    return url
                continue
            assert response.status_code == 200, response.text
            assert 'name="login"' in response.text, response.text  # the provider's login page
            action = response.text.split('action="', 1)[1].split('"', 1)[0]
            response = browser.post(urljoin(url, action), data={"prompt": "login", "login": login,
                                                                 "password": "any"},
                                    allow_redirects=False, timeout=10)
            assert response.status_code in {302, 303}, response.text
            url = urljoin(url, response.headers["Location"])
        raise AssertionError("the provider never sent the browser back")


def path_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}" if parts.query else parts.path


class ForgedProvider:
    """A provider whose ID tokens the test writes itself (signature, iss, aud, exp, nonce), over real HTTP.

    It serves a discovery document, its public key, a token endpoint answering with ``self.id_token``
    and a userinfo endpoint; the app's own code (Authlib) fetches and checks all of it.
    """

    def __init__(self):
        from joserfc.jwk import RSAKey

        self.key = RSAKey.generate_key(2048, parameters={"kid": "forged-provider-key", "use": "sig"})
        self.port = free_port()
        self.issuer = f"http://127.0.0.1:{self.port}"
        self.id_token: str | None = None
        self.token_requests: list[dict] = []
        self.server = None

    def claims(self, nonce: str, **changes) -> dict:
        import time

        now = int(time.time())
        claims = {"iss": self.issuer, "sub": "forged-subject-1", "aud": CLIENT_ID, "iat": now, "exp": now + 300,
                  "nonce": nonce, "email": "forged@example.org", "name": "Fritz Gefaelscht"}
        claims.update(changes)
        return {k: v for k, v in claims.items() if v is not None}

    def sign(self, claims: dict, key=None, kid: str = "forged-provider-key") -> str:
        from joserfc import jwt

        return jwt.encode({"alg": "RS256", "kid": kid}, claims, key or self.key)

    def start(self) -> ForgedProvider:
        import json
        import threading
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
        from urllib.parse import parse_qs

        provider = self

        class Handler(BaseHTTPRequestHandler):
            def _json(self, body: dict, status: int = 200) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self):  # noqa: N802
                if self.path == "/.well-known/openid-configuration":
                    self._json({"issuer": provider.issuer, "authorization_endpoint": f"{provider.issuer}/auth",
                                "token_endpoint": f"{provider.issuer}/token", "jwks_uri": f"{provider.issuer}/jwks",
                                "userinfo_endpoint": f"{provider.issuer}/userinfo",
                                "id_token_signing_alg_values_supported": ["RS256"],
                                "code_challenge_methods_supported": ["S256"]})
                elif self.path == "/jwks":
                    self._json({"keys": [provider.key.as_dict(private=False)]})
                elif self.path == "/userinfo":
                    self._json({"sub": "forged-subject-1", "email": "forged@example.org", "name": "Fritz Gefaelscht"})
                else:
                    self._json({"error": "not_found"}, 404)

            def do_POST(self):  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
                provider.token_requests.append({k: v[0] for k, v in parse_qs(body).items()})
                token = {"access_token": "forged-access-token", "token_type": "Bearer", "expires_in": 300}
                if provider.id_token is not None:
                    token["id_token"] = provider.id_token
                self._json(token)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.server.serve_forever, name="forged-provider", daemon=True).start()
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()

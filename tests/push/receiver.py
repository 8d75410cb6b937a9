"""A Web Push receiver for Hearth's tests: it does what a push service and a
browser do together, on 127.0.0.1, with code that shares nothing with Hearth's.

Usage: receiver.py FOLDER. Makes a subscription key pair and auth secret, prints
one JSON line {"port", "p256dh", "auth"}, then serves POST /push/<name>:
  - checks the VAPID header (RFC 8292): the JWT's ES256 signature with the key
    in k=, its aud (this origin) and exp (in the future);
  - decrypts the aes128gcm body (RFC 8291) with the subscription's private key;
  - writes {"name", "payload", "headers"} to FOLDER/NNNN.json and answers 201.
A name starting "gone" answers 410 (an expired subscription); "busy" answers
503 the first time. A push that fails a check is written with an "error" and
answered 400. Stops when its standard input closes.
"""

import base64
import json
import os
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import http_ece
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature


def b64d(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def b64e(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


PRIVATE = ec.generate_private_key(ec.SECP256R1())
PUBLIC = PRIVATE.public_key().public_bytes(
    serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
)
AUTH = os.urandom(16)
LOCK = threading.Lock()
STATE = {"count": 0, "busy": set()}


def check_vapid(header, origin):
    scheme, _, params = header.partition(" ")
    if scheme != "vapid":
        raise ValueError(f"scheme {scheme!r}")
    fields = dict(p.strip().split("=", 1) for p in params.split(","))
    token, key = fields["t"], fields["k"]
    head, claims, signature = token.split(".")
    public = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), b64d(key))
    raw = b64d(signature)
    der = encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))
    public.verify(der, f"{head}.{claims}".encode(), ec.ECDSA(hashes.SHA256()))
    if json.loads(b64d(head)) != {"typ": "JWT", "alg": "ES256"}:
        raise ValueError("header")
    claims = json.loads(b64d(claims))
    if claims["aud"] != origin:
        raise ValueError(f"aud {claims['aud']!r} is not {origin!r}")
    if not time.time() < claims["exp"] <= time.time() + 24 * 3600:
        raise ValueError("exp")
    if not claims.get("sub"):
        raise ValueError("no sub")
    return key


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_POST(self):
        name = self.path.rsplit("/", 1)[-1]
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        if name.startswith("gone"):
            return self.answer(410)
        with LOCK:
            if name.startswith("busy") and name not in STATE["busy"]:
                STATE["busy"].add(name)
                return self.answer(503)
        record = {"name": name, "headers": {k.lower(): v for k, v in self.headers.items()}}
        status = 201
        try:
            origin = f"http://127.0.0.1:{self.server.server_address[1]}"
            record["vapid_key"] = check_vapid(self.headers["Authorization"], origin)
            if self.headers["Content-Encoding"] != "aes128gcm":
                raise ValueError("content-encoding")
            plain = http_ece.decrypt(body, private_key=PRIVATE, auth_secret=AUTH, version="aes128gcm")
            record["payload"] = json.loads(plain)
        except (ValueError, KeyError, InvalidSignature, Exception) as err:  # noqa: BLE001
            record["error"] = f"{type(err).__name__}: {err}"
            status = 400
        with LOCK:
            STATE["count"] += 1
            path = os.path.join(self.server.folder, f"{STATE['count']:04}.json")
        with open(path + ".part", "w", encoding="utf-8") as out:
            json.dump(record, out)
        os.replace(path + ".part", path)
        self.answer(status)

    def answer(self, status):
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()


def main():
    folder = sys.argv[1]
    os.makedirs(folder, exist_ok=True)
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.folder = folder
    threading.Thread(target=server.serve_forever, daemon=True).start()
    print(json.dumps({"port": server.server_address[1], "p256dh": b64e(PUBLIC), "auth": b64e(AUTH)}), flush=True)
    sys.stdin.read()
    server.shutdown()


if __name__ == "__main__":
    main()

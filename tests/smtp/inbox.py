"""A real SMTP server for Hearth's email tests (aiosmtpd), on 127.0.0.1.

Usage: inbox.py FOLDER [REFUSE]. The first REFUSE messages (default 0) are
answered "451 try again later", as a busy server does. Prints "ready PORT" once it listens, then writes each
message it receives to FOLDER/NNNN.json, decoded by Python's email package:
{"from", "to", "subject", "text", "html", "headers": {name: value}}. It stops when
its standard input closes (the test that started it is gone).
"""

import json
import os
import socket
import sys
from email import policy
from email.parser import BytesParser

from aiosmtpd.controller import Controller


class Inbox:
    def __init__(self, folder, refuse):
        self.folder = folder
        self.count = 0
        self.refuse = refuse

    async def handle_DATA(self, server, session, envelope):
        if self.refuse > 0:
            self.refuse -= 1
            return "451 4.3.0 Busy, try again later"
        message = BytesParser(policy=policy.default).parsebytes(envelope.content)
        text = message.get_body(preferencelist=("plain",))
        html = message.get_body(preferencelist=("html",))
        record = {
            "from": envelope.mail_from,
            "to": envelope.rcpt_tos,
            "subject": str(message["subject"]),
            "text": text.get_content() if text else None,
            "html": html.get_content() if html else None,
            "headers": {name: str(value) for name, value in message.items()},
        }
        self.count += 1
        path = os.path.join(self.folder, f"{self.count:04}.json")
        with open(path + ".part", "w", encoding="utf-8") as out:
            json.dump(record, out)
        os.replace(path + ".part", path)  # whole, or not there
        return "250 Message accepted for delivery"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main():
    folder = sys.argv[1]
    os.makedirs(folder, exist_ok=True)
    port = free_port()
    refuse = int(sys.argv[2]) if len(sys.argv) > 2 else 0
    controller = Controller(Inbox(folder, refuse), hostname="127.0.0.1", port=port)
    controller.start()
    print(f"ready {port}", flush=True)
    sys.stdin.read()
    controller.stop()


if __name__ == "__main__":
    main()

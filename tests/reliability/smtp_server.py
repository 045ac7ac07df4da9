"""A small SMTP server for tests (the delivery boundary): records accepted
messages, or answers every DATA with a chosen error; optional STARTTLS (with
a certificate given) or TLS from the first byte (implicit_tls, as on port
465), AUTH PLAIN (credentials recorded), and a size limit (SIZE advertised,
larger messages refused with 552, as postfix's message_size_limit does).
With keep=False it counts what it accepts without keeping it (benchmarks)."""

import base64
import socketserver
import ssl
import threading


class _Handler(socketserver.StreamRequestHandler):
    def send(self, line):
        self.wfile.write(line.encode() + b"\r\n")

    def start_tls(self):
        """TLS on the connection from here on; False if the handshake failed."""
        try:
            self.connection = self.server.tls_context.wrap_socket(self.connection,
                                                                  server_side=True)
        except (ssl.SSLError, OSError):
            return False
        self.rfile = self.connection.makefile("rb")
        self.wfile = self.connection.makefile("wb", buffering=0)
        self.encrypted = True
        return True

    def handle(self):
        server = self.server
        self.encrypted = False
        if server.implicit_tls and not self.start_tls():
            return
        self.send("220 test ESMTP")
        sender, recipients = None, []
        while True:
            line = self.rfile.readline()
            if not line:
                return
            command = line.decode("ascii", "replace").strip()
            verb = command.split(" ", 1)[0].upper()
            if verb in ("EHLO", "HELO"):
                extensions = ["8BITMIME"]
                if server.max_size:
                    extensions.append(f"SIZE {server.max_size}")
                if server.tls_context and not self.encrypted:
                    extensions.append("STARTTLS")
                if self.encrypted:
                    extensions.append("AUTH PLAIN")
                self.wfile.write("".join(f"250-{item}\r\n" for item in ["test"] + extensions[:-1])
                                 .encode() + f"250 {extensions[-1]}\r\n".encode())
            elif verb == "STARTTLS" and server.tls_context:
                self.send("220 go ahead")
                self.wfile.flush()
                if not self.start_tls():
                    return
            elif verb == "AUTH" and self.encrypted:
                fields = command.split()
                secret = base64.b64decode(fields[2]).split(b"\0") if len(fields) > 2 else []
                server.logins.append(tuple(part.decode() for part in secret[1:]))
                self.send("235 welcome")
            elif verb == "MAIL":
                sender, recipients = command[10:].split(" SIZE=")[0].strip(), []
                declared = command.upper().partition(" SIZE=")[2]
                if server.max_size and declared.isdigit() and int(declared) > server.max_size:
                    server.refused += 1
                    self.send("552 5.3.4 Message size exceeds fixed limit")
                    continue
                self.send("250 ok")
            elif verb == "RCPT":
                recipients.append(command[8:].strip())
                self.send("250 ok")
            elif verb == "DATA":
                self.send("354 go on")
                lines, size = [], 0
                while True:
                    data = self.rfile.readline()
                    if data in (b".\r\n", b""):
                        break
                    size += len(data)
                    if server.keep:
                        lines.append(data[1:] if data.startswith(b".") else data)
                if server.reply:
                    self.send(server.reply)
                elif server.max_size and size > server.max_size:
                    server.refused += 1
                    self.send("552 5.3.4 Message size exceeds fixed limit")
                else:
                    server.received.append((sender, recipients, b"".join(lines)))
                    server.sizes.append(size)
                    self.send("250 queued")
            elif verb == "QUIT":
                self.send("221 bye")
                return
            else:
                self.send("502 not here")


class SMTPServer(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True

    def __init__(self, reply=None, certificate=None, key=None, implicit_tls=False,
                 max_size=0, keep=True):
        super().__init__(("127.0.0.1", 0), _Handler)
        self.reply = reply
        self.implicit_tls = implicit_tls
        self.max_size = max_size
        self.keep = keep
        self.refused = 0
        self.sizes = []
        self.received = []
        self.logins = []
        self.tls_context = None
        if certificate:
            self.tls_context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            self.tls_context.load_cert_chain(certificate, key)
        self.thread = threading.Thread(target=self.serve_forever, daemon=True)
        self.thread.start()

    @property
    def port(self):
        return self.server_address[1]

    def stop(self):
        self.shutdown()
        self.server_close()

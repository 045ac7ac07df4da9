"""A small SMTP server for tests (the delivery boundary): records accepted
messages, or answers every DATA with a chosen error."""

import socketserver
import threading


class _Handler(socketserver.StreamRequestHandler):
    def send(self, line):
        self.wfile.write(line.encode() + b"\r\n")

    def handle(self):
        server = self.server
        self.send("220 test ESMTP")
        sender, recipients = None, []
        while True:
            line = self.rfile.readline()
            if not line:
                return
            command = line.decode("ascii", "replace").strip()
            verb = command.split(" ", 1)[0].upper()
            if verb in ("EHLO", "HELO"):
                self.wfile.write(b"250-test\r\n250 8BITMIME\r\n")
            elif verb == "MAIL":
                sender, recipients = command[10:].strip(), []
                self.send("250 ok")
            elif verb == "RCPT":
                recipients.append(command[8:].strip())
                self.send("250 ok")
            elif verb == "DATA":
                self.send("354 go on")
                lines = []
                while True:
                    data = self.rfile.readline()
                    if data in (b".\r\n", b""):
                        break
                    lines.append(data[1:] if data.startswith(b".") else data)
                if server.reply:
                    self.send(server.reply)
                else:
                    server.received.append((sender, recipients, b"".join(lines)))
                    self.send("250 queued")
            elif verb == "QUIT":
                self.send("221 bye")
                return
            else:
                self.send("502 not here")


class SMTPServer(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True

    def __init__(self, reply=None):
        super().__init__(("127.0.0.1", 0), _Handler)
        self.reply = reply
        self.received = []
        self.thread = threading.Thread(target=self.serve_forever, daemon=True)
        self.thread.start()

    @property
    def port(self):
        return self.server_address[1]

    def stop(self):
        self.shutdown()
        self.server_close()

#!/usr/bin/env python3
"""record.py PORT CASES OUT: sends each request (a JSON array per line of CASES;
an argument {"hex": ...} is binary, and such a request is recorded as Latin-1
text with "latin1": true)
on one connection, writes {"request": [...], "reply": "<latin-1 reply>"} lines."""
import json, socket, sys

def arg(a):
    return bytes.fromhex(a["hex"]) if isinstance(a, dict) else a.encode()

def enc(args):
    out = b"*%d\r\n" % len(args)
    for a in args:
        b = arg(a)
        out += b"$%d\r\n%s\r\n" % (len(b), b)
    return out

class Reader:
    def __init__(self, s):
        self.s, self.buf = s, b""
    def fill(self):
        d = self.s.recv(65536)
        if not d: raise EOFError
        self.buf += d
    def line(self):
        while b"\r\n" not in self.buf: self.fill()
        i = self.buf.index(b"\r\n")
        l, self.buf = self.buf[:i+2], self.buf[i+2:]
        return l
    def take(self, n):
        while len(self.buf) < n: self.fill()
        d, self.buf = self.buf[:n], self.buf[n:]
        return d
    def reply(self):
        l = self.line()
        t = l[:1]
        if t in (b"+", b"-", b":", b"_", b",", b"#", b"("):
            return l
        n = int(l[1:-2])
        if t in (b"$", b"=", b"!"):
            return l if n < 0 else l + self.take(n + 2)
        if t in (b"*", b"~", b">", b"%", b"|"):
            if n < 0: return l
            k = n * 2 if t in (b"%", b"|") else n
            out = l
            for _ in range(k): out += self.reply()
            return out
        raise ValueError(l)

port, cases, outp = int(sys.argv[1]), sys.argv[2], sys.argv[3]
s = socket.create_connection(("127.0.0.1", port))
r = Reader(s)
with open(cases) as f, open(outp, "w") as o:
    for line in f:
        line = line.strip()
        if not line or line.startswith("#"): continue
        req = json.loads(line)
        s.sendall(enc(req))
        rep = r.reply()
        if any(isinstance(a, dict) for a in req):
            req = [arg(a).decode("latin-1") for a in req]
            o.write(json.dumps({"request": req, "latin1": True, "reply": rep.decode("latin-1")}) + "\n")
        else:
            o.write(json.dumps({"request": req, "reply": rep.decode("latin-1")}) + "\n")

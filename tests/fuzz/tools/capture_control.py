#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Captures control API traffic from a real greygated as seed corpora.

Starts BUILD/bin/greygated on loopback (ephemeral ports, a temporary DBDIR), plays a session
that calls every method the way the console and greygatectl do, and writes each request
frame to corpus/control_message and corpus/control_api, each answer frame to
corpus/control_message, and the whole session (one frame per line) to corpus/control_api;
then plays it again on a private redis-server and writes the policy documents as Redis holds
them (HGETALL gg:docs, one "field<TAB>value" line each) to corpus/redis_documents.
Usage: tests/fuzz/tools/capture_control.py BUILD_DIR
"""
import base64
import hashlib
import json
import os
import socket
import struct
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
CORPUS = os.path.join(HERE, '..', 'corpus')


def free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


class WebSocket:
    """Just enough RFC 6455 for a client: masked text frames out, unmasked frames in."""

    def __init__(self, port, deadline=10.0):
        end = time.monotonic() + deadline
        while True:
            try:
                self.sock = socket.create_connection(('127.0.0.1', port), timeout=5)
                break
            except OSError:
                if time.monotonic() > end:
                    raise
                time.sleep(0.1)
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall((f'GET / HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n'
                           f'Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n'
                           'Sec-WebSocket-Version: 13\r\n\r\n').encode())
        head = b''
        while b'\r\n\r\n' not in head:
            chunk = self.sock.recv(4096)
            if not chunk:
                raise RuntimeError('handshake refused')
            head += chunk
        if b' 101 ' not in head.split(b'\r\n', 1)[0]:
            raise RuntimeError(head.decode(errors='replace'))
        self.pending = head.split(b'\r\n\r\n', 1)[1]

    def send(self, text):
        data = text.encode()
        mask = os.urandom(4)
        header = bytes([0x81])
        if len(data) < 126:
            header += bytes([0x80 | len(data)])
        elif len(data) < 65536:
            header += bytes([0x80 | 126]) + struct.pack('>H', len(data))
        else:
            header += bytes([0x80 | 127]) + struct.pack('>Q', len(data))
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(data))
        self.sock.sendall(header + mask + masked)

    def _read(self, n):
        while len(self.pending) < n:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise RuntimeError('connection closed')
            self.pending += chunk
        out, self.pending = self.pending[:n], self.pending[n:]
        return out

    def receive(self):
        b0, b1 = self._read(2)
        n = b1 & 0x7f
        if n == 126:
            n = struct.unpack('>H', self._read(2))[0]
        elif n == 127:
            n = struct.unpack('>Q', self._read(8))[0]
        payload = self._read(n)
        if b0 & 0x0f == 0x8:
            raise RuntimeError('closed by the server: %r' % payload)
        return payload.decode()


def save(what, data):
    folder = os.path.join(CORPUS, what)
    os.makedirs(folder, exist_ok=True)
    digest = hashlib.sha1(data).hexdigest()[:16]
    with open(os.path.join(folder, 'cap-' + digest), 'wb') as f:
        f.write(data)


def session():
    """The requests, in order; ids follow from the import (groups 9, 10; policy 3)."""
    with open(os.path.join(CORPUS, 'policy_document', 'docs_example_1.json')) as f:
        doc = json.load(f)
    return [
        ('hello', {}), ('ping', {}), ('status', {}),
        ('stats', {"from": 1799996400, "to": 1800000000, "step": 60}),
        ('stats.breakdown', {"from": 1799996400, "to": 1800000000, "limit": 10}),
        ('queue.list', {"state": "deferred", "sort": "lastSeen", "limit": 50}),
        ('queue.list', {"client": "192.0.2.1", "domain": "corp.example", "offset": 0}),
        ('rejections.list', {"limit": 20}),
        ('policy.import', {"document": doc}),
        ('policy.list', {}), ('policy.get', {"id": 3}),
        ('policy.create', {"policy": {"narrative": "Partners skip greylisting",
                                      "action": "bypass",
                                      "from": {"type": "domain", "value": "partner.test"},
                                      "to": {"type": "everyone"}, "enabled": True}}),
        ('policy.explain', {"client": "192.0.2.7", "sender": "boss@partner.test",
                            "recipient": "b@example.com"}),
        ('group.list', {}), ('group.get', {"id": 9}),
        ('group.create', {"group": {"name": "Partners", "kind": "custom",
                                    "members": ["a@partner.example"]}}),
        ('group.members.add', {"id": 11, "version": 1, "members": ["@supplier.example",
                                                                    "2001:db8::/32"]}),
        ('group.import', {"id": 11, "version": 2, "csv": "x@b.example\n@c.example\n"}),
        ('group.export', {"id": 11}),
        ('autoallow.add', {"external": "pen@pal2.test", "internal": "*",
                           "expiresAt": 1900000000}),
        ('autoallow.list', {"limit": 10}),
        ('autoallow.remove', {"external": "pen@pal2.test", "internal": "*"}),
        ('queue.release', {"client": "192.0.2.0/24", "sender": "a@b.example",
                           "recipient": "c@corp.example"}),
        ('queue.permit', {"client": "192.0.2.0/24", "sender": "d@e.example",
                          "recipient": "c@corp.example"}),
        ('queue.delete', {"client": "192.0.2.0/24", "sender": "d@e.example",
                          "recipient": "c@corp.example"}),
        ('audit.list', {"limit": 10}),
        ('policy.export', {}),
        ('policy.delete', {"id": 3, "version": 4}),
        ('report', {"from": 1799996400, "to": 1800000000}),
        ('events.subscribe', {}),
    ]


def policy_request(port, sender, recipient, client='192.0.2.1'):
    """One Postfix policy delegation request, so the queue has real entries."""
    with socket.create_connection(('127.0.0.1', port), timeout=5) as s:
        s.sendall(('request=smtpd_access_policy\nprotocol_state=RCPT\nprotocol_name=ESMTP\n'
                   f'client_address={client}\nclient_name=mx.b.example\nhelo_name=mx.b.example\n'
                   f'sender={sender}\nrecipient={recipient}\n\n').encode())
        answer = b''
        while not answer.endswith(b'\n\n'):
            chunk = s.recv(4096)
            if not chunk:
                break
            answer += chunk


def play(build, dbdir, store_args, keep):
    """Runs greygated, plays the session; keep: write the control frames as seeds."""
    port = free_port()
    policy_port = free_port()
    daemon = subprocess.Popen([os.path.join(build, 'bin', 'greygated'),
                               '--inet=127.0.0.1:%d' % policy_port, '--dbdir=' + dbdir,
                               '--control-listen=127.0.0.1:%d' % port] + store_args,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        token_file = os.path.join(dbdir, 'control.token')
        for _ in range(100):
            if os.path.exists(token_file) and os.path.getsize(token_file) > 0:
                break
            time.sleep(0.1)
        ws = WebSocket(port)
        for sender in ('a@b.example', 'd@e.example', '<>'):
            policy_request(policy_port, sender, 'c@corp.example')
        token = open(token_file).read().strip()
        ws.send(json.dumps({"v": 1, "id": 0, "method": "auth", "params": {"token": token}}))
        answer = ws.receive()
        if keep:
            save('control_message', answer.encode())
        frames = []
        for n, (method, params) in enumerate(session(), start=1):
            frame = json.dumps({"v": 1, "id": n, "method": method, "params": params},
                               separators=(',', ':'))
            frames.append(frame)
            ws.send(frame)
            answer = ws.receive()
            print(method, '->', answer[:100])
            if keep:
                save('control_message', frame.encode())
                save('control_message', answer.encode())
                save('control_api', frame.encode())
        # Pushed events (the subscription above is live): one attempt, its push.
        policy_request(policy_port, 'f@g.example', 'c@corp.example', '2001:db8::7')
        answer = ws.receive()
        if keep:
            save('control_message', answer.encode())
            # The whole session as inputs of at most 16 frames (fuzz_control_api's bound).
            save('control_api', '\n'.join(frames[:16]).encode())
            save('control_api', '\n'.join(frames[8:24]).encode())
    finally:
        daemon.terminate()
        daemon.wait(10)


def main():
    build = os.path.abspath(sys.argv[1])
    with tempfile.TemporaryDirectory() as dbdir:
        play(build, dbdir, [], keep=True)
    # The same session on a shared Redis store: the policy documents as Redis holds them.
    with tempfile.TemporaryDirectory() as dbdir:
        redis_port = free_port()
        redis = subprocess.Popen(['redis-server', '--port', str(redis_port), '--bind',
                                  '127.0.0.1', '--save', '', '--appendonly', 'no',
                                  '--dir', dbdir], stdout=subprocess.DEVNULL)
        try:
            time.sleep(0.5)
            play(build, dbdir, ['--store=redis://127.0.0.1:%d/0' % redis_port], keep=False)
            raw = subprocess.run(['redis-cli', '-p', str(redis_port), '--raw', 'HGETALL',
                                  'gg:docs'], check=True, capture_output=True).stdout
            items = raw.decode().split('\n')
            entries = ['%s\t%s' % (items[i], items[i + 1]) for i in range(0, len(items) - 1, 2)]
            for entry in entries:
                save('redis_documents', entry.encode())
            save('redis_documents', '\n'.join(entries).encode())
        finally:
            redis.terminate()
            redis.wait(10)


if __name__ == '__main__':
    main()

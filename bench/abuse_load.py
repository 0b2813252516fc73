#!/usr/bin/env python3
"""The hostile-client figures of docs/security.md (a benchmark, not a test).

Starts mgteam-server on a free loopback port, then, one attack at a time,
measures what a normal client sees and what the server's memory does:

  idle     2,000 idle TCP connections + 500 that send their head a byte a
           second; /healthz latency for a normal client meanwhile
  chunked  a 200 MiB chunked body; the server's RSS growth
  headers  one request with 10^6 headers; the server's RSS growth

The attacks come from 127.0.0.2 and the normal client from 127.0.0.1, as
two machines would. Prints one JSON summary.
Usage: bench/abuse_load.py SERVER_BINARY [EXTRA SERVER FLAGS...]
"""
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time


def rss_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return -1


ATTACKER = ("127.0.0.2", 0)


def attack_conn(port):
    return socket.create_connection(("127.0.0.1", port), source_address=ATTACKER)


def start_server(binary, data, extra):
    r, w = os.pipe()
    proc = subprocess.Popen([binary, "--listen", "127.0.0.1:0", "--data-dir", data, "--ready-fd", str(w),
                             "--log-level", "error"] + extra, pass_fds=(w,))
    os.close(w)
    port = int(os.fdopen(r).readline())
    return proc, port


def healthz_ms(port, n):
    out = []
    for _ in range(n):
        t = time.monotonic()
        s = socket.create_connection(("127.0.0.1", port), timeout=60)
        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        data = b""
        while True:
            chunk = s.recv(4096)
            if not chunk:
                break
            data += chunk
        s.close()
        assert data.startswith(b"HTTP/1.1 200"), data[:40]
        out.append((time.monotonic() - t) * 1000)
    out.sort()
    return {"count": n, "p50": out[n // 2], "p99": out[min(n - 1, int(n * 0.99))], "max": out[-1]}


def idle_and_slow(port, idle=2000, slow=500, seconds=10):
    held = []
    for _ in range(idle):
        held.append(attack_conn(port))
    slow_socks = [attack_conn(port) for _ in range(slow)]
    stop = threading.Event()
    head = b"POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\n"

    def dribble():
        i = 0
        while not stop.is_set():
            for s in slow_socks:
                try:
                    s.send(head[i % len(head):i % len(head) + 1])
                except OSError:
                    pass
            i += 1
            stop.wait(1.0)

    t = threading.Thread(target=dribble)
    t.start()
    time.sleep(1)  # let the attack settle before measuring (a load, not a test)
    lat = healthz_ms(port, 200)
    stop.set()
    t.join()
    refused = 0  # answered 429 (over the per-address cap) and closed
    for s in held + slow_socks:
        s.setblocking(False)
        try:
            refused += s.recv(16).startswith(b"HTTP/1.1 429")
        except OSError:
            pass
        s.close()
    return {"idle": idle, "slow": slow, "refused_429": refused, "healthz_ms": lat}


def chunked(port, pid, mib=200):
    before = rss_kb(pid)
    s = attack_conn(port)
    s.sendall(b"POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
              b"Transfer-Encoding: chunked\r\n\r\n")
    chunk = b"100000\r\n" + b" " * 0x100000 + b"\r\n"
    sent = 0
    try:
        for _ in range(mib):
            s.sendall(chunk)
            sent += 1
    except OSError:
        pass
    peak = rss_kb(pid)
    s.close()
    return {"sent_mib": sent, "of_mib": mib, "rss_growth_mb": (peak - before) / 1024}


def headers(port, pid, n=1_000_000):
    before = rss_kb(pid)
    s = attack_conn(port)
    sent = 0
    try:
        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        block = b"".join(b"X-H%d: v\r\n" % i for i in range(1000))
        for _ in range(n // 1000):
            s.sendall(block)
            sent += 1000
    except OSError:
        pass
    peak = rss_kb(pid)
    s.close()
    return {"headers_sent": sent, "of": n, "rss_growth_mb": (peak - before) / 1024}


def main():
    binary = sys.argv[1]
    with tempfile.TemporaryDirectory() as data:
        proc, port = start_server(binary, data, sys.argv[2:])
        try:
            out = {"server_flags": sys.argv[2:], "baseline_healthz_ms": healthz_ms(port, 200)}
            out["idle_and_slow"] = idle_and_slow(port)
            out["chunked_200mib"] = chunked(port, proc.pid)
            out["headers_1e6"] = headers(port, proc.pid)
            out["rss_mb_end"] = rss_kb(proc.pid) / 1024
            print(json.dumps(out, indent=2))
        finally:
            proc.terminate()
            proc.wait(timeout=30)


if __name__ == "__main__":
    main()

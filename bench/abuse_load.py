#!/usr/bin/env python3
"""The hostile-client figures of docs/security.md (a benchmark, not a test).

Starts mgteam-server on a free loopback port, then, one attack at a time,
measures what a normal client sees and what the server's memory does:

  idle     2,000 idle TCP connections + 500 that send their head a byte a
           second; /healthz latency for a normal client meanwhile
  chunked  a 200 MiB chunked body; the server's RSS growth
  headers  one request with 10^6 headers; the server's RSS growth
  streams  (--streams, its own server runs) 2,000 SSE streams of one account
           that never read, then twenty 99 KB writes; the server's RSS, with
           the default backlog budget and with none (the old behaviour)
  polls    (--long-polls, its own server, --threads 16) 64 accounts with 4
           long-polls each (wait=60): 256 waiting polls, 16 workers; /healthz
           and an authenticated GET meanwhile, RSS, and how long until every
           poll has answered once each account writes

The attacks come from 127.0.0.2 and the normal client from 127.0.0.1, as
two machines would. Prints one JSON summary.
Usage: bench/abuse_load.py SERVER_BINARY [EXTRA SERVER FLAGS...]
       bench/abuse_load.py SERVER_BINARY --streams
       bench/abuse_load.py SERVER_BINARY --long-polls
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


def exchange(port, request):
    """Sends one raw request on a new connection; returns all the answer."""
    s = socket.create_connection(("127.0.0.1", port), timeout=60)
    s.sendall(request)
    return read_to_close(s)


def read_to_close(s):
    data = b""
    while True:
        chunk = s.recv(65536)
        if not chunk:
            break
        data += chunk
    s.close()
    return data


def healthz_ms(port, n):
    return timed_ms(port, b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", n)


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


def api(port, method, path, body=None, token=None):
    data = json.dumps(body).encode() if body is not None else b""
    head = f"{method} {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: application/json\r\n"
    if token:
        head += f"Authorization: Bearer {token}\r\n"
    out = exchange(port, (head + f"Content-Length: {len(data)}\r\n\r\n").encode() + data)
    return json.loads(out.split(b"\r\n\r\n", 1)[1] or b"null")


def metric_values(port, names):
    text = exchange(port, b"GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    out = {}
    for line in text.decode().splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[0] in names:
            out[parts[0]] = float(parts[1])
    return out


def stalled_streams(binary, budget, n=2000, writes=20):
    with tempfile.TemporaryDirectory() as data:
        proc, port = start_server(binary, data, ["--max-streams-per-user", "0", "--max-connections-per-address", "0",
                                                 "--stream-backlog-budget", str(budget)])
        try:
            user = api(port, "POST", "/api/v1/auth/signup",
                       {"email": "a@example.com", "name": "A", "password": "password-long-enough"})
            token = user["token"]
            ws = [w for w in api(port, "GET", "/api/v1/workspaces", token=token)["workspaces"]
                  if w["type"] == "personal"][0]["id"]
            before = rss_kb(proc.pid)
            socks = []
            req = (f"GET /api/v1/sync/stream?workspace_id={ws} HTTP/1.1\r\nHost: x\r\n"
                   f"Authorization: Bearer {token}\r\n\r\n").encode()
            for _ in range(n):
                s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
                s.bind(ATTACKER)
                s.connect(("127.0.0.1", port))
                s.sendall(req)
                socks.append(s)
            time.sleep(2)  # let the hub take them all (a benchmark: no assertion rests on it)
            peak = rss_kb(proc.pid)
            for i in range(writes):
                api(port, "POST", f"/api/v1/workspaces/{ws}/memories",
                    {"title": f"big {i}", "content": "x" * 99000}, token)
                peak = max(peak, rss_kb(proc.pid))
            # The hub fans 2,000 copies of each write out; sample while it works.
            for _ in range(50):
                time.sleep(0.1)
                peak = max(peak, rss_kb(proc.pid))
            metrics = metric_values(port, ["mgteam_streams_open", "mgteam_stream_backlog_bytes",
                                           "mgteam_slow_consumer_disconnects_total"])
            for s in socks:
                s.close()
            time.sleep(5)  # closed streams are reaped, buffers trimmed
            return {"streams": n, "writes_99kb": writes, "backlog_budget": budget,
                    "rss_mb_before": before / 1024, "rss_mb_peak": peak / 1024, "after_writes": metrics,
                    "rss_mb_after_close": rss_kb(proc.pid) / 1024}
        finally:
            # Without a budget the hub may still be copying gigabytes of
            # frames when asked to stop: give it 30 s, then kill it.
            proc.terminate()
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def timed_ms(port, request, n):
    out = []
    for _ in range(n):
        t = time.monotonic()
        data = exchange(port, request)
        assert data.startswith(b"HTTP/1.1 200"), data[:80]
        out.append((time.monotonic() - t) * 1000)
    out.sort()
    return {"count": n, "p50": out[n // 2], "p99": out[min(n - 1, int(n * 0.99))], "max": out[-1]}


def long_polls(binary, accounts=64, per_account=4, threads=16):
    with tempfile.TemporaryDirectory() as data:
        proc, port = start_server(binary, data, ["--open-signup", "--threads", str(threads)])
        try:
            users = []
            for i in range(accounts):
                u = api(port, "POST", "/api/v1/auth/signup",
                        {"email": f"u{i}@example.com", "name": f"U{i}", "password": "password-long-enough"})
                ws = [w for w in api(port, "GET", "/api/v1/workspaces", token=u["token"])["workspaces"]
                      if w["type"] == "personal"][0]
                head = api(port, "GET", f"/api/v1/workspaces/{ws['id']}", token=u["token"])["head_seq"]
                users.append((u["token"], ws["id"], head))
            before = rss_kb(proc.pid)
            socks = []
            for token, ws, head in users:
                req = (f"GET /api/v1/workspaces/{ws}/events?wait=60&since={head} HTTP/1.1\r\nHost: x\r\n"
                       f"Authorization: Bearer {token}\r\nConnection: close\r\n\r\n").encode()
                for _ in range(per_account):
                    s = attack_conn(port)
                    s.sendall(req)
                    socks.append(s)
            waiting = 0
            for _ in range(1000):
                waiting = metric_values(port, ["mgteam_long_polls_waiting"]).get("mgteam_long_polls_waiting", 0)
                if waiting >= len(socks):
                    break
                time.sleep(0.01)
            token0 = users[0][0]
            me = (f"GET /api/v1/me HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token0}\r\n"
                  f"Connection: close\r\n\r\n").encode()
            out = {"accounts": accounts, "polls": len(socks), "threads": threads, "waiting": waiting,
                   "healthz_ms": healthz_ms(port, 200), "authenticated_get_ms": timed_ms(port, me, 200),
                   "rss_mb_before": before / 1024, "rss_mb_waiting": rss_kb(proc.pid) / 1024}
            t = time.monotonic()
            for token, ws, _ in users:
                api(port, "POST", f"/api/v1/workspaces/{ws}/memories", {"title": "wake"}, token)
            answered = 0
            for s in socks:
                s.settimeout(60)
                data = read_to_close(s)
                answered += data.startswith(b"HTTP/1.1 200") and b'"wake"' in data
            out["answered_with_the_write"] = answered
            out["all_answered_ms_after_first_write"] = (time.monotonic() - t) * 1000
            return out
        finally:
            proc.terminate()
            proc.wait(timeout=30)


def main():
    binary = sys.argv[1]
    if sys.argv[2:] == ["--long-polls"]:
        print(json.dumps({"long_polls": long_polls(binary)}, indent=2))
        return
    if sys.argv[2:] == ["--streams"]:
        print(json.dumps({"stalled_streams": [stalled_streams(binary, 256 << 20), stalled_streams(binary, 0)]},
                         indent=2))
        return
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

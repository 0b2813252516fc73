#!/usr/bin/env python3
"""The import figures of docs/performance.md (a benchmark, not a test).

Generates a MemoryGraph export (format_version 2.0) of N memories and N
relationships (each memory links to an earlier one, types and tags varied,
~300 bytes of text each), starts mgteam-server on a free loopback port with
its own data dir, signs a user up with the real CLI, and times, end to end:

  import    `mgteam import FILE` (batches to POST .../batch)
  again     the same import again (everything already there: nothing changes)
  export    `mgteam export --format mgteam -o FILE`
  list      the first `mgteam memory list` after it, which loads the replica
            (a snapshot of everything imported)
  complete  one shell <TAB> over that replica: `mgteam __complete memory get
            0000` (a memory-id prefix every memory shares, so the lookup returns
            its full 100 candidates) and `mgteam __complete mem` (commands
            only), 30 runs each, median and worst (docs/cli.md, "Completion")

Prints one JSON summary.
Usage: bench/import_bench.py SERVER_BINARY CLI_BINARY [--count N]
"""
import json
import os
import random
import subprocess
import sys
import tempfile
import time


def start_server(binary, data):
    r, w = os.pipe()
    proc = subprocess.Popen([binary, "--listen", "127.0.0.1:0", "--data-dir", data, "--ready-fd", str(w),
                             "--log-level", "error"], pass_fds=(w,))
    os.close(w)
    port = int(os.fdopen(r).readline())
    return proc, port


def generate(path, n):
    types = ["problem", "solution", "error", "fix", "code_pattern", "workflow", "general"]
    rel_types = ["SOLVES", "CAUSES", "BUILDS_ON", "RELATED_TO", "DEPENDS_ON"]
    rnd = random.Random(20261129)
    memories, relationships = [], []
    for i in range(n):
        memories.append({
            "id": f"00000000-0000-4000-8000-{i:012d}",
            "type": types[i % len(types)],
            "title": f"Memory {i}: {rnd.choice(['redis', 'csv', 'celery', 'nginx'])} {rnd.choice(['timeout', 'leak', 'retry'])}",
            "content": "x" * 250 + f" #{i}",
            "summary": f"summary {i}",
            "tags": [f"t{i % 50}", f"area{i % 7}"],
            "importance": round(rnd.random(), 3),
            "confidence": 0.8,
            "created_at": "2026-11-01T00:00:00.000000+00:00",
            "updated_at": "2026-11-02T00:00:00.000000+00:00",
            "context": {"project_path": f"/src/p{i % 10}"},
        })
    for i in range(n):
        a, b = i, (i * 7919 + 1) % n
        if a == b:
            b = (b + 1) % n
        relationships.append({
            "id": f"00000000-0000-4000-9000-{i:012d}",
            "from_memory_id": memories[a]["id"], "to_memory_id": memories[b]["id"],
            "type": rel_types[i % len(rel_types)],
            "properties": {"strength": 0.5, "confidence": 0.8, "context": None, "evidence_count": 1 + i % 3},
        })
    with open(path, "w") as f:
        json.dump({"format_version": "2.0", "export_version": "1.0", "memories": memories,
                   "relationships": relationships}, f)


def timed(argv, env):
    t = time.monotonic()
    out = subprocess.run(argv, env=env, capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit(f"{' '.join(argv)} failed: {out.stderr}")
    return time.monotonic() - t, out.stdout


def main():
    server, cli = sys.argv[1], sys.argv[2]
    n = int(sys.argv[sys.argv.index("--count") + 1]) if "--count" in sys.argv else 100000
    with tempfile.TemporaryDirectory() as tmp:
        export = os.path.join(tmp, "export.json")
        generate(export, n)
        proc, port = start_server(server, os.path.join(tmp, "data"))
        try:
            env = dict(os.environ, XDG_CONFIG_HOME=f"{tmp}/config", XDG_DATA_HOME=f"{tmp}/xdg-data",
                       XDG_STATE_HOME=f"{tmp}/state", XDG_RUNTIME_DIR=f"{tmp}/run", MGTEAM_SERVER="",
                       MGTEAM_TOKEN="", MGTEAM_WORKSPACE="")
            subprocess.run([cli, "server", "set", f"http://127.0.0.1:{port}"], env=env, check=True,
                           capture_output=True)
            subprocess.run([cli, "signup", "--email", "bench@example.com", "--password-stdin"], env=env,
                           input="correct horse battery\n", text=True, check=True, capture_output=True)
            first, out = timed([cli, "--json", "import", export], env)
            summary = json.loads(out)
            again, out2 = timed([cli, "--json", "import", export], env)
            exported, _ = timed([cli, "export", "--format", "mgteam", "-o", os.path.join(tmp, "out.json")], env)
            listed, _ = timed([cli, "memory", "list", "-n", "1"], env)
            tab_ids = sorted(timed([cli, "__complete", "memory", "get", "0000"], env)[0] for _ in range(30))
            tab_cmds = sorted(timed([cli, "__complete", "mem"], env)[0] for _ in range(30))
        finally:
            proc.terminate()
            proc.wait()
        print(json.dumps({
            "bench": "import", "memories": n, "relationships": n,
            "file_mb": round(os.path.getsize(export) / 1e6, 1),
            "import_s": round(first, 1), "created": summary["memories"]["created"] + summary["relationships"]["created"],
            "reimport_s": round(again, 1), "reimport_existing": json.loads(out2)["memories"]["existing"],
            "export_s": round(exported, 1), "first_list_with_snapshot_s": round(listed, 1),
            "complete_memory_id_ms": {"median": round(tab_ids[15] * 1000, 1), "max": round(tab_ids[-1] * 1000, 1)},
            "complete_command_ms": {"median": round(tab_cmds[15] * 1000, 1), "max": round(tab_cmds[-1] * 1000, 1)},
        }))


if __name__ == "__main__":
    main()

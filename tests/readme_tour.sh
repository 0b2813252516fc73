#!/usr/bin/env bash
# Runs the README's "CLI tour" block verbatim against a fresh mgteam-server,
# so the README cannot drift from what the programs do. The only edits: the
# server URL becomes the test server's, and `mgteam signup` reads its password
# from stdin instead of a terminal.
#   readme_tour.sh SERVER_BIN CLI_DIR README
set -euo pipefail
server_bin=$1 cli_dir=$2 readme=$3
tmp=$(mktemp -d)
server_pid=
cleanup() {
  if [[ -n "$server_pid" ]]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
  rm -rf "$tmp"
}
trap cleanup EXIT
# In a sanitizer build (scripts/test --sanitize), reports of the server and
# the CLI go here, whatever their stderr is; any report fails the tour.
mkdir "$tmp/sanitizer"
for var in ASAN_OPTIONS UBSAN_OPTIONS TSAN_OPTIONS; do
  export "$var=${!var:-}:log_path=$tmp/sanitizer/report"
done
sanitizer_reports() {
  local found=1
  for f in "$tmp"/sanitizer/report.*; do
    [[ -e "$f" ]] || continue
    echo "--- sanitizer report (${f##*/}; the number is the pid):"; cat "$f"; found=0
  done
  return $found
}

mkfifo "$tmp/ready"
"$server_bin" --listen 127.0.0.1:0 --data-dir "$tmp/data" --ready-fd 3 3>"$tmp/ready" 2>"$tmp/server.log" &
server_pid=$!
read -r port <"$tmp/ready"   # blocks until the server listens (or exits)
[[ -n "$port" ]] || { cat "$tmp/server.log"; exit 1; }

sed -n '/<!-- tour:begin -->/,/<!-- tour:end -->/p' "$readme" | sed '1,2d;$d' | sed '$d' >"$tmp/tour.sh"
grep -q "mgteam signup" "$tmp/tour.sh" || { echo "no tour found in $readme"; exit 1; }
sed -i -e "s|http://127.0.0.1:8474|http://127.0.0.1:$port|g" \
       -e "s|^\(mgteam signup [^#]*\)#.*$|\1 --password-stdin <<< 'correct horse battery'|" "$tmp/tour.sh"

export PATH="$cli_dir:$PATH" XDG_CONFIG_HOME="$tmp/config" XDG_DATA_HOME="$tmp/data" \
       XDG_STATE_HOME="$tmp/state" XDG_RUNTIME_DIR="$tmp/run"
unset MGTEAM_SERVER MGTEAM_TOKEN MGTEAM_WORKSPACE
if ! (cd "$tmp" && bash -euo pipefail "$tmp/tour.sh") >"$tmp/out" 2>&1; then
  echo "--- the README tour failed; its output:"; cat "$tmp/out"
  echo "--- server log:"; cat "$tmp/server.log"
  sanitizer_reports || true
  exit 1
fi
cat "$tmp/out"
# What the tour's last steps should have shown.
grep -q "^Signed up as Alice" "$tmp/out"
grep -qx "Fixed Redis timeout with a 5 s connect retry" "$tmp/out"   # the jq line
grep -q "SOLVES" "$tmp/out"
grep -q "memory_deleted\|Deleted memory" "$tmp/out"
grep -q "^mg_" "$tmp/out"
grep -q "^Platform Team: .* - no drift" "$tmp/out"
# Stop the server the way an operator would, so that it reports leaks too.
kill "$server_pid"; wait "$server_pid" || true; server_pid=
if sanitizer_reports; then exit 1; fi
echo "README tour OK"

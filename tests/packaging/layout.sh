# Checks of the install layout (cmake/install.cmake), sourced by
# deb_test.sh and install_test.sh.
#   check_layout ROOT PREFIX VERSION
# ROOT is where the files are now (DESTDIR + prefix); PREFIX is the prefix
# they were installed for, which the units must name.

failures=0
fail() {
  echo "FAIL: $*" >&2
  failures=$((failures + 1))
}

# Runs "$@" and checks it exits 0 and prints `want` (stdout and stderr).
expect_output() {
  local want=$1
  shift
  local out rc=0
  out=$("$@" 2>&1) || rc=$?
  if ((rc != 0)); then
    fail "$* exited $rc: $out"
  elif [[ "$out" != *"$want"* ]]; then
    fail "$* did not print '$want': $out"
  fi
}

# Every file the layout holds, relative to the prefix, and nothing else.
expected_files() {
  cat <<'LIST'
bin/mgteam
bin/mgteam-agent
bin/mgteam-server
lib/systemd/system/mgteam-server.service
lib/systemd/user/mgteam-agent.service
share/bash-completion/completions/mgteam
share/fish/vendor_completions.d/mgteam.fish
share/man/man1/mgteam-agent.1
share/man/man1/mgteam.1
share/man/man8/mgteam-server.8
share/mgteam/dev.mgteam.agent.plist
share/mgteam/mgteam-server.env
share/mgteam/nginx.conf
share/zsh/vendor-completions/_mgteam
LIST
}

check_layout() {
  local root=$1 prefix=$2 version=$3
  local files
  files=$(cd "$root" && find . -type f -o -type l | sed 's|^\./||' | LC_ALL=C sort)
  if [[ "$files" != "$(expected_files | LC_ALL=C sort)" ]]; then
    fail "the files under $root differ from the layout:"
    diff <(expected_files | LC_ALL=C sort) <(echo "$files") >&2 || true
  fi

  expect_output "mgteam $version" "$root/bin/mgteam" --version
  expect_output "--data-dir" "$root/bin/mgteam-server" --help
  expect_output "--log-file" "$root/bin/mgteam-agent" --help

  for page in man1/mgteam.1 man1/mgteam-agent.1 man8/mgteam-server.8; do
    grep -q '^\.TH ' "$root/share/man/$page" 2>/dev/null || fail "share/man/$page is not a man page"
  done

  local agent_unit=$root/lib/systemd/user/mgteam-agent.service
  local server_unit=$root/lib/systemd/system/mgteam-server.service
  grep -qx "ExecStart=$prefix/bin/mgteam-agent --log-file %S/mgteam/agent.log" "$agent_unit" ||
    fail "$agent_unit does not start $prefix/bin/mgteam-agent: $(grep ExecStart "$agent_unit")"
  grep -qx "ExecStart=$prefix/bin/mgteam-server" "$server_unit" ||
    fail "$server_unit does not start $prefix/bin/mgteam-server: $(grep ExecStart "$server_unit")"
  if grep -l '@[A-Z]*@' "$agent_unit" "$server_unit" >&2; then fail "a unit has an unfilled @PLACEHOLDER@"; fi

  # bash-completion loads the file by command name and it must register a
  # completion for mgteam; zsh autoloads only files starting with #compdef.
  local bash_file=$root/share/bash-completion/completions/mgteam
  bash -c 'source "$1" && complete -p mgteam' _ "$bash_file" >/dev/null 2>&1 ||
    fail "$bash_file does not register a completion for mgteam"
  # And it completes, with the installed mgteam: `mgteam ag<TAB>`.
  local completed home
  home=$(mktemp -d)  # a user with no config
  completed=$(HOME=$home XDG_CONFIG_HOME=$home/config XDG_DATA_HOME=$home/data bash -c \
    'source "$1" && COMP_WORDS=("$2" ag) COMP_CWORD=1 && _mgteam && echo "${COMPREPLY[*]}"' \
    _ "$bash_file" "$root/bin/mgteam" 2>&1)
  rm -rf "$home"
  [[ "$completed" == agent ]] || fail "mgteam ag<TAB> in bash gave '$completed', not 'agent'"
  head -n1 "$root/share/zsh/vendor-completions/_mgteam" | grep -q '^#compdef mgteam' ||
    fail "share/zsh/vendor-completions/_mgteam does not start with #compdef mgteam"
  grep -q 'complete .*-c mgteam' "$root/share/fish/vendor_completions.d/mgteam.fish" ||
    fail "share/fish/vendor_completions.d/mgteam.fish completes nothing for mgteam"
  if command -v zsh >/dev/null; then zsh -n "$root/share/zsh/vendor-completions/_mgteam" || fail "_mgteam: zsh syntax"; fi
  if command -v fish >/dev/null; then fish -n "$root/share/fish/vendor_completions.d/mgteam.fish" || fail "mgteam.fish: fish syntax"; fi

  verify_unit --user "$agent_unit" "$root" "$prefix"
  verify_unit --system "$server_unit" "$root" "$prefix"
}

# systemd's own check of a unit (unknown keys, bad values, a command that is
# not there), where systemd-analyze exists. The copy checked runs the
# programs where they are now (ROOT) instead of PREFIX, where they will be.
#   verify_unit --system|--user UNIT ROOT PREFIX
verify_unit() {
  local mode=$1 unit=$2 root=$3 prefix=$4
  if ! command -v systemd-analyze >/dev/null; then
    echo "note: no systemd-analyze here; skipping its check of ${unit##*/}" >&2
    return 0
  fi
  local dir
  dir=$(mktemp -d)
  mkdir "$dir/run"  # the --user manager it simulates needs a runtime dir
  sed "s|^ExecStart=$prefix/bin/|ExecStart=$root/bin/|" "$unit" >"$dir/${unit##*/}"
  local out rc=0
  out=$(XDG_RUNTIME_DIR=$dir/run systemd-analyze "$mode" verify --man=no "$dir/${unit##*/}" 2>&1) || rc=$?
  if ((rc != 0)) || [[ -n "$out" ]]; then fail "systemd-analyze verify ${unit##*/} (exit $rc): $out"; fi
  rm -rf "$dir"
}

#!/usr/bin/env bash
# Runs the whole test suite on a fresh machine: installs what the build and the tests need, builds the
# solution (the C launcher included), then runs the unit tests and the integration tests (which create
# real namespaces and mounts, and also run the CLI as an unprivileged user; they need root).
#
#   ./test.sh                 everything
#   ./test.sh --unit          unit tests only (no root needed)
set -euo pipefail
cd "$(dirname "$0")"

unit_only=0
[[ "${1:-}" == "--unit" ]] && unit_only=1

log() { printf '\n== %s\n' "$*"; }

# --- what the build and the tests need -------------------------------------------------------------
missing=()
command -v cc >/dev/null 2>&1 || missing+=(gcc)
compgen -G "/usr/lib/*-linux-gnu/libc.a" >/dev/null || missing+=(libc6-dev)   # static sandbox-init and probe
command -v setpriv >/dev/null 2>&1 || missing+=(util-linux)                   # rootless tests
compgen -G "/usr/lib/*-linux-gnu/libseccomp.so.2" >/dev/null || missing+=(libseccomp2)  # seccomp: compared with libseccomp's compiler
[[ -f /usr/include/linux/seccomp.h ]] || missing+=(linux-libc-dev)            # seccomp: constants and syscall tables checked against the headers
[[ -f /usr/aarch64-linux-gnu/include/asm/unistd.h ]] || missing+=(linux-libc-dev-arm64-cross)  # seccomp: the aarch64 syscall table
command -v umoci >/dev/null 2>&1 || missing+=(umoci)                          # image tests: build an OCI layout
command -v skopeo >/dev/null 2>&1 || missing+=(skopeo)                        # image tests: a docker-save archive
[[ -x /usr/bin/docker-registry ]] || missing+=(docker-registry)             # image tests: a real registry to pull from (started on loopback by the tests)
dpkg -s busybox-static >/dev/null 2>&1 || missing+=(busybox-static)           # image tests: a static busybox for the image
if ((${#missing[@]})); then
  if [[ $(id -u) -ne 0 ]]; then
    echo "test.sh: missing ${missing[*]}; install them (apt-get install ${missing[*]}) or run as root." >&2
    exit 1
  fi
  log "installing ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi
command -v dotnet >/dev/null 2>&1 || { echo "test.sh: the .NET SDK (dotnet) is required" >&2; exit 1; }

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

log "build"
dotnet build Sandbox.sln -c Release -nologo -clp:ErrorsOnly

results=$(mktemp -d)
trap 'rm -rf "$results"' EXIT
status=0
run_tests() {
  local project=$1
  log "test $project"
  dotnet test "tests/$project" -c Release --no-build -nologo --logger "console;verbosity=minimal" \
    --blame-hang-timeout 5m 2>&1 | tee "$results/$project.log" || status=1
}

run_tests Sandbox.Tests
if ((unit_only == 0)); then
  if [[ $(id -u) -ne 0 ]]; then
    echo "test.sh: the integration tests create namespaces, mounts and a rootless run through setpriv: run as root (CI does)." >&2
    exit 1
  fi
  run_tests Sandbox.IntegrationTests
fi

# One closing line over every project: "N passed, N failed, N skipped".
passed=0 failed=0 skipped=0
while read -r f p s; do
  failed=$((failed + f)); passed=$((passed + p)); skipped=$((skipped + s))
done < <(grep -hoE 'Failed:\s+[0-9]+, Passed:\s+[0-9]+, Skipped:\s+[0-9]+' "$results"/*.log |
         sed -E 's/Failed:\s+([0-9]+), Passed:\s+([0-9]+), Skipped:\s+([0-9]+)/\1 \2 \3/')
if ((passed + failed == 0)); then
  echo "test.sh: no test ran" >&2
  exit 1
fi
((failed == 0)) || status=1
echo
echo "tests: $passed passed, $failed failed, $skipped skipped"
exit $status

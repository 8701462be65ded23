#!/usr/bin/env bash
# Benchmarks Sandbox against Process.Start, unshare, bwrap, runc and crun on this machine and writes the reports
# into benchmarks/results/ (commit them). Installs the peers if they are missing (Debian/Ubuntu, as root).
#
#   ./benchmarks/run.sh                        side by side: 400 runs each with a minimal heap, a 4 GiB live heap,
#                                              and the minimal heap again; then the launch breakdown, the cgroup cost
#                                              and the seccomp cost
#   ./benchmarks/run.sh --runs 300 --heap-gib 8   options are passed on to the side-by-side mode
#   ./benchmarks/run.sh --bdn                  also the BenchmarkDotNet suite (Startup, Planning, Cgroups, Seccomp)
#   ./benchmarks/run.sh --bdn-only             only the BenchmarkDotNet suite
#   ./benchmarks/run.sh --wait-quiet 300       before each pass, wait up to 300 s for other processes to go quiet
#   ./benchmarks/run.sh --images               only the image benchmarks: overlay-cost and pull-vs-skopeo (root; needs
#                                              busybox-static, skopeo and docker-registry, which test.sh installs)
#
# Measure on a quiet machine: the report records how much CPU went to other work during each pass.
set -euo pipefail
cd "$(dirname "$0")/.."

side_by_side=1 bdn=0 images_only=0 args=()
while (($#)); do
  case $1 in
    --bdn) bdn=1 ;;
    --bdn-only) bdn=1 side_by_side=0 ;;
    --images) images_only=1 side_by_side=0 ;;
    -h|--help) sed -n '2,15p' "$0"; exit 0 ;;
    *) args+=("$1") ;;
  esac
  shift
done

log() { printf '\n== %s\n' "$*"; }

# --- the peers, and what the build needs ------------------------------------------------------------
missing=()
command -v bwrap >/dev/null 2>&1 || missing+=(bubblewrap)
command -v unshare >/dev/null 2>&1 || missing+=(util-linux)
command -v runc >/dev/null 2>&1 || missing+=(runc)
command -v crun >/dev/null 2>&1 || missing+=(crun)
command -v cc >/dev/null 2>&1 || missing+=(gcc)
compgen -G "/usr/lib/*-linux-gnu/libc.a" >/dev/null || missing+=(libc6-dev)   # the static sandbox-init
compgen -G "/usr/lib/*-linux-gnu/libseccomp.so.2" >/dev/null || missing+=(libseccomp2)  # seccomp-cost: libseccomp's filters
if ((${#missing[@]})); then
  if [[ $(id -u) -ne 0 ]] || ! command -v apt-get >/dev/null 2>&1; then
    echo "run.sh: missing ${missing[*]}; install them (apt-get install ${missing[*]}) and run again." >&2
    exit 1
  fi
  log "installing ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi
command -v dotnet >/dev/null 2>&1 || { echo "run.sh: the .NET SDK (dotnet) is required" >&2; exit 1; }

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

log "build (Release)"
dotnet build benchmarks/Sandbox.Benchmarks -c Release -nologo -clp:ErrorsOnly
dll=benchmarks/Sandbox.Benchmarks/bin/Release/net10.0/Sandbox.Benchmarks.dll
results=benchmarks/results
mkdir -p "$results"

read -r load _ < /proc/loadavg
if awk -v l="$load" 'BEGIN { exit !(l > 0.5) }'; then
  echo "run.sh: the 1-minute load average is $load; other work on the machine will show in the figures." >&2
fi

if ((side_by_side)); then
  if command -v strace >/dev/null 2>&1; then
    log "how Process.Start and Sandbox spawn (strace)"
    strace -f -qq -e trace=fork,vfork,clone,clone3 -o "$results/.spawn.strace" dotnet "$dll" spawn-probe
    { echo "# strace -f -e trace=fork,vfork,clone,clone3 dotnet Sandbox.Benchmarks.dll spawn-probe"
      echo "# (pid first; one Process.Start(\"/bin/true\"), then one Sandbox RunAsync of /bin/true; runtime threads omitted)"
      grep -v -e CLONE_THREAD -e '^[0-9]* +++' -e 'resumed>' "$results/.spawn.strace"
    } > "$results/spawn-syscalls.txt"
    rm -f "$results/.spawn.strace"
  fi
  log "side by side"
  dotnet "$dll" side-by-side --out "$results/side-by-side.md" "${args[@]}"
  log "where Sandbox's time goes"
  { echo "# dotnet Sandbox.Benchmarks.dll launch-breakdown --runs 300   ($(date -u '+%Y-%m-%d %H:%M UTC'), $(uname -r), $(nproc) cores)"
    dotnet "$dll" launch-breakdown --runs 300
  } | tee "$results/launch-breakdown.txt"
  if [[ $(id -u) -eq 0 ]]; then
    log "what a sandbox cgroup costs"
    dotnet "$dll" cgroup-cost --runs 300 --out "$results/cgroup-cost.txt"
  fi
  log "what a seccomp filter costs a system call"
  dotnet "$dll" seccomp-cost --out "$results/seccomp-cost.md"
fi

if ((side_by_side || images_only)) && [[ $(id -u) -eq 0 ]]; then
  if [[ -x /bin/busybox ]] && command -v skopeo >/dev/null 2>&1 && [[ -x /usr/bin/docker-registry ]]; then
    log "what an image root adds to a run"
    dotnet "$dll" overlay-cost --runs 600 --out "$results/overlay-cost.md"
    log "pulling from a loopback registry: Sandbox against skopeo"
    dotnet build src/Sandbox.Cli -c Release -nologo -clp:ErrorsOnly   # the CLI contender
    dotnet "$dll" pull-vs-skopeo --rounds 9 --out "$results/pull-vs-skopeo.md"
  else
    echo "run.sh: image benchmarks skipped: they need busybox-static, skopeo and docker-registry (apt-get install busybox-static skopeo docker-registry; test.sh installs them)." >&2
  fi
fi

if ((bdn)); then
  log "BenchmarkDotNet"
  artifacts=$(mktemp -d)
  trap 'rm -rf "$artifacts"' EXIT
  dotnet "$dll" --filter '*' --artifacts "$artifacts" --exporters github | tee "$artifacts/bdn.log"
  cpu_line=$(grep '^CPU during the run' "$artifacts/bdn.log" || true)
  for report in "$artifacts"/results/*-report-github.md; do
    target="$results/bdn-$(basename "$report" | sed -e 's/^Sandbox\.Benchmarks\.//' -e 's/^Cgroups\.//' -e 's/-report-github//')"
    { cat "$report"; echo; echo "$cpu_line"; echo "Written by benchmarks/run.sh (its BenchmarkDotNet step), $(date -u '+%Y-%m-%d %H:%M UTC')."; } > "$target"
  done
  ls "$results"
fi

"""Renders a profile as one plain bash script (apply / verify / rollback) for operators who prefer
shell. It is derived from the same Subsystem objects as the Python path (each section's shell()),
so the script is generated output, never a second definition; scripts/generate_tuning_script.py
writes it and a test regenerates and diffs it. Host-dependent values (online CPUs, IRQ numbers,
the "auto" latency limit) are worked out by the script at run time, exactly as the Python does."""
from __future__ import annotations

from tuning.profile import PROFILE_DIR, Profile
from tuning.setting import shell_quote, text_value
from tuning.subsystems import SUBSYSTEMS

_PREAMBLE = r'''set -u
MODE="${1:-}"
case "$MODE" in
  apply|verify|rollback) ;;
  *) echo "usage: $0 apply|verify|rollback" >&2; exit 2 ;;
esac
if [ "$MODE" != verify ] && [ "$(id -u)" -ne 0 ]; then
  echo "$0 $MODE: changing host settings needs root" >&2; exit 2
fi
STATE_DIR="${VENUE_TUNING_STATE_DIR:-/var/lib/venue-tuning/shell}"
STATE="$STATE_DIR/originals.tsv"
PROBLEMS=0
START_LINES=0

note() { printf '%-40s %s\n' "$1" "$2"; }

# Expands a CPU list ("0-2,5") to one CPU per line, sorted.
cpulist_expand() {
  echo "$1" | tr ',' '\n' | while IFS=- read -r lo hi; do
    [ -n "$lo" ] && seq "$lo" "${hi:-$lo}"
  done | sort -n -u
}
# The kernel's compact form of a CPU list: "0,1,2,5" -> "0-2,5".
cpulist_norm() {
  cpulist_expand "$1" | awk 'NR==1{s=$1;p=$1;next} $1==p+1{p=$1;next}
    {printf "%s%s", sep, (s==p? s : s "-" p); sep=","; s=$1; p=$1}
    END{if (NR) printf "%s%s", sep, (s==p? s : s "-" p); print ""}'
}
cpulist_subtract() {
  cpulist_norm "$(comm -23 <(cpulist_expand "$1") <(cpulist_expand "$2") | sort -n | paste -sd, -)"
}
# A CPU list as the kernel's hex mask, 32-bit groups separated by commas.
cpulist_to_mask() {
  local -a words=(); local cpu top=0 out="" i
  for cpu in $(cpulist_expand "$1"); do
    words[cpu / 32]=$(( ${words[cpu / 32]:-0} | (1 << (cpu % 32)) ))
    (( cpu / 32 > top )) && top=$(( cpu / 32 ))
  done
  for (( i = top; i >= 0; i-- )); do
    if [ -z "$out" ]; then out=$(printf '%x' "${words[i]:-0}")
    else out="$out,$(printf '%08x' "${words[i]:-0}")"; fi
  done
  echo "$out"
}
mask_norm() { local m; m=$(echo "$1" | tr -d ',' | sed 's/^0*//'); echo "${m:-0}"; }

saved() { [ -f "$STATE" ] && cut -f1 "$STATE" | grep -qxF "$1"; }
save_original() {
  mkdir -p "$STATE_DIR"
  saved "$1" || printf '%s\t%s\n' "$1" "$2" >> "$STATE"
}
# Restores state lines after line $1 in reverse order, then drops them from the state file.
restore_from() {
  [ -f "$STATE" ] || return 0
  local key value failed=0
  while IFS=$'\t' read -r key value; do
    case "$key" in
      /*) printf '%s' "$value" > "$key" || failed=1 ;;
      irqbalance:*) set_irqbalance "${key#irqbalance:}" "$value" || failed=1 ;;
      dma-holder) grep -q sleep "/proc/$value/cmdline" 2>/dev/null && kill "$value" ;;
      ethtool:*) set_ethtool "${key#ethtool:}" "$value" || failed=1 ;;
    esac
  done < <(tail -n +"$(( $1 + 1 ))" "$STATE" | tac)
  head -n "$1" "$STATE" > "$STATE.tmp" && mv "$STATE.tmp" "$STATE"
  [ -s "$STATE" ] || rm -f "$STATE"
  return $failed
}
fail() {
  echo "$0 apply: $1" >&2
  if restore_from "$START_LINES"; then echo "$0 apply: restored every change made before it" >&2
  else echo "$0 apply: some changes could not be restored; see $STATE" >&2; fi
  exit 1
}
differs() { note "$1" "differs: current $2, wanted $3"; PROBLEMS=$((PROBLEMS + 1)); }

# read_as MODE FILE: the file's value normalised for comparison.
read_as() {
  case "$1" in
    choice) sed -n 's/.*\[\([^]]*\)\].*/\1/p' "$2" ;;
    mask) mask_norm "$(cat "$2")" ;;
    cpulist) cpulist_norm "$(cat "$2")" ;;
    *) tr -s ' \t' '  ' < "$2" ;;
  esac
}
norm_as() {
  case "$1" in
    mask) mask_norm "$2" ;;
    cpulist) cpulist_norm "$2" ;;
    *) echo "$2" | tr -s ' \t' '  ' ;;
  esac
}
# tune MODE NAME FILE WANTED: compare, and in apply mode save the original and write.
tune() {
  local mode="$1" name="$2" file="$3" wanted="$4" cur want err
  if [ ! -e "$file" ]; then note "$name" "not applicable here ($file absent)"; return 0; fi
  if ! cur=$(read_as "$mode" "$file" 2>/dev/null); then
    note "$name" "cannot read $file"; PROBLEMS=$((PROBLEMS + 1))
    [ "$MODE" = apply ] && fail "cannot read $file, so its original could not be saved"
    return 0
  fi
  want=$(norm_as "$mode" "$wanted")
  if [ "$mode" = atleast ] && [ "$cur" -ge "$want" ]; then note "$name" ok; return 0; fi
  if [ "$cur" = "$want" ]; then note "$name" ok; return 0; fi
  if [ "$MODE" != apply ]; then differs "$name" "$cur" "$want"; return 0; fi
  save_original "$file" "$cur"
  if ! err=$( { printf '%s' "$wanted" > "$file"; } 2>&1 ); then
    case "$err" in
      *"Input/output error"*) note "$name" "refused by the kernel (managed or per-CPU IRQ)"; return 0 ;;
    esac
    fail "writing $name = $wanted failed: $err"
  fi
  cur=$(read_as "$mode" "$file")
  if [ "$mode" = atleast ]; then [ "$cur" -ge "$want" ] || fail "$name: asked for $want, got $cur"
  else [ "$cur" = "$want" ] || fail "$name reads back $cur after writing $want"; fi
  note "$name" "changed to $want"
}
tune_exact() { tune exact "$@"; }
tune_choice() { tune choice "$@"; }
tune_mask() { tune mask "$@"; }
tune_at_least() { tune atleast "$@"; }
tune_irq() { tune cpulist "irq $(basename "$(dirname "$1")") affinity" "$1" "$2"; }

irqbalance_config() {
  local f; for f in /etc/sysconfig/irqbalance /etc/default/irqbalance; do
    [ -f "$f" ] && { echo "$f"; return 0; }; done; return 1
}
set_irqbalance() {
  local file="$1" value="$2"
  sed -i '/^[[:space:]]*IRQBALANCE_BANNED_CPULIST[[:space:]]*=/d' "$file" || return 1
  [ "$value" = unset ] || echo "IRQBALANCE_BANNED_CPULIST=\"$value\"" >> "$file"
}
tune_irqbalance() {
  local file cur want
  if ! file=$(irqbalance_config); then note "irqbalance banned cpus" "not applicable here (irqbalance not installed)"; return 0; fi
  cur=$(sed -n 's/^[[:space:]]*IRQBALANCE_BANNED_CPULIST[[:space:]]*=[[:space:]]*"\{0,1\}\([^"#]*\)"\{0,1\}.*/\1/p' "$file" | tail -n 1)
  want=$(cpulist_norm "$1")
  [ -n "$cur" ] && cur=$(cpulist_norm "$cur") || cur=unset
  if [ "$cur" = "$want" ]; then note "irqbalance banned cpus" ok; return 0; fi
  if [ "$MODE" != apply ]; then differs "irqbalance banned cpus" "$cur" "$want"; return 0; fi
  save_original "irqbalance:$file" "$cur"
  set_irqbalance "$file" "$want" || fail "cannot edit $file"
  note "irqbalance banned cpus" "changed to $want (restart irqbalance to take effect)"
}

check_boot_params() {
  local word missing=""
  for word in $1; do
    grep -qw -- "$word" /proc/cmdline || missing="$missing $word"
  done
  if [ -z "$missing" ]; then note "kernel command line" ok; return 0; fi
  differs "kernel command line" "lacks:$missing" "$1"
  if command -v grubby >/dev/null; then
    echo "  boot-time only, run:  grubby --update-kernel=ALL --args=\"${missing# }\" && reboot"
  elif [ -f /etc/default/grub ]; then
    echo "  boot-time only: add \"${missing# }\" to GRUB_CMDLINE_LINUX in /etc/default/grub, regenerate grub.cfg, reboot"
  else
    echo "  boot-time only: no boot loader configuration here; add \"${missing# }\" to the VM's kernel command line"
  fi
}

dma_latency_auto() {
  local driver state
  driver=$(cat /sys/devices/system/cpu/cpuidle/current_driver 2>/dev/null || echo none)
  if [ "$driver" = haltpoll ] || grep -qw hypervisor /proc/cpuinfo || [ "$driver" = none ]; then echo 0; return; fi
  for state in /sys/devices/system/cpu/cpu0/cpuidle/state*; do
    [ "$(cat "$state/name")" = POLL ] && continue
    cat "$state/latency"; return
  done
  echo 0
}
dma_latency_holders() {
  local fd; for fd in /proc/[0-9]*/fd/*; do
    [ "$(readlink "$fd" 2>/dev/null)" = /dev/cpu_dma_latency ] && { fd=${fd#/proc/}; echo "${fd%%/*}"; }
  done | sort -u | paste -sd, -
}
tune_dma_latency() {
  local value="$1" pids bytes pid
  [ -e /dev/cpu_dma_latency ] || { note cpu_dma_latency "not applicable here (no /dev/cpu_dma_latency)"; return 0; }
  [ "$value" = auto ] && value=$(dma_latency_auto)
  pids=$(dma_latency_holders)
  if [ -n "$pids" ]; then note cpu_dma_latency "held by pid $pids (wanted $value us)"; return 0; fi
  if [ "$MODE" != apply ]; then differs cpu_dma_latency "not held" "$value us, held"; return 0; fi
  # The device takes one native 32-bit integer (kernel/power/qos.c, cpu_latency_qos_write).
  bytes=$(printf '\\x%02x\\x%02x\\x%02x\\x%02x' $((value & 255)) $((value >> 8 & 255)) \
          $((value >> 16 & 255)) $((value >> 24 & 255)))
  setsid bash -c 'exec 3>/dev/cpu_dma_latency && printf "$1" >&3 && exec sleep infinity' \
    holder "$bytes" </dev/null >/dev/null 2>&1 &
  pid=$!
  mkdir -p "$STATE_DIR"; printf 'dma-holder\t%s\n' "$pid" >> "$STATE"
  note cpu_dma_latency "held at $value us by pid $pid"
}

set_ethtool() {
  local dev="${1%%:*}" key="${1#*:}" value="$2"
  case "$key" in
    rx-usecs|tx-usecs) ethtool -C "$dev" "$key" "$value" ;;
    adaptive-rx|adaptive-tx) ethtool -C "$dev" "$key" "$value" ;;
    gro|lro) ethtool -K "$dev" "$key" "$value" ;;
  esac
}
get_ethtool() {
  local dev="$1" key="$2"
  case "$key" in
    rx-usecs|tx-usecs) ethtool -c "$dev" 2>/dev/null | awk -v k="$key:" '$1==k{print $2}' ;;
    adaptive-rx) ethtool -c "$dev" 2>/dev/null | awk '$1=="Adaptive"{print $3}' ;;
    adaptive-tx) ethtool -c "$dev" 2>/dev/null | awk '$1=="Adaptive"{print $5}' ;;
    gro) ethtool -k "$dev" 2>/dev/null | awk '$1=="generic-receive-offload:"{print $2}' ;;
    lro) ethtool -k "$dev" 2>/dev/null | awk '$1=="large-receive-offload:"{print $2}' ;;
  esac
}
tune_nics() {
  local devices="$1" dev key want cur path; shift
  if ! command -v ethtool >/dev/null; then note nic "not applicable here (ethtool not installed)"; return 0; fi
  for path in /sys/class/net/*; do
    dev=$(basename "$path"); [ -e "$path/device" ] || continue
    [ "$devices" = "*" ] || echo " $devices " | grep -q " $dev " || continue
    set -- "${@}"
    local args=("$@") i
    for (( i = 0; i < ${#args[@]}; i += 2 )); do
      key="${args[i]}"; want="${args[i + 1]}"
      case "$key" in adaptive-*|gro|lro) [ "$want" = 1 ] && want=on || want=off ;; esac
      cur=$(get_ethtool "$dev" "$key")
      if [ -z "$cur" ]; then note "nic $dev $key" "not applicable here (driver does not report it)"; continue; fi
      if [ "$cur" = "$want" ]; then note "nic $dev $key" ok; continue; fi
      if [ "$MODE" != apply ]; then differs "nic $dev $key" "$cur" "$want"; continue; fi
      save_original "ethtool:$dev:$key" "$cur"
      set_ethtool "$dev:$key" "$want" >/dev/null 2>&1 || fail "ethtool $dev $key $want failed"
      note "nic $dev $key" "changed to $want"
    done
  done
}

if [ "$MODE" = rollback ]; then
  if [ ! -f "$STATE" ]; then echo "nothing to roll back: no $STATE"; exit 0; fi
  restore_from 0 || { echo "$0 rollback: some values could not be restored; see $STATE" >&2; exit 1; }
  echo "rollback: every saved original restored"; exit 0
fi
[ -f "$STATE" ] && START_LINES=$(wc -l < "$STATE")
'''

_EPILOGUE = r'''
if [ "$MODE" = verify ]; then
  [ "$PROBLEMS" -eq 0 ] && { echo "verify: passed"; exit 0; }
  echo "verify: failed, $PROBLEMS setting(s) off"; exit 1
fi
echo "apply: done; originals in $STATE"
'''


def render(profile: Profile, generator: str) -> str:
    """The whole script for ``profile``; ``generator`` is named in the do-not-edit banner."""
    sources = ", ".join(f"tuning/profiles/{name}.toml" for name in profile.chain)
    lines = ["#!/usr/bin/env bash",
             f"# GENERATED by {generator} from {sources}. DO NOT EDIT: change the profile and",
             f"# regenerate. Profile {profile.name}: {profile.summary}",
             f"# Usage: sudo bash tuning-{profile.name}.sh apply|verify|rollback",
             _PREAMBLE.rstrip(), "", "# Profile variables; housekeeping_cores is what the host has left."]
    for key, value in profile.variables.items():
        lines.append(f"{key}={shell_quote(value)}")
    lines.append('online_cpus="$(cat /sys/devices/system/cpu/online)"')
    if "isolated_cores" in profile.variables:
        lines.append('housekeeping_cores="$(cpulist_subtract "$online_cpus" "$isolated_cores")"')
    for section, subsystem in SUBSYSTEMS.items():
        if section in profile.sections:
            values = {k: text_value(v) for k, v in profile.sections[section].items()}
            lines.append(f"\n# [{section}]")
            lines.extend(subsystem.shell(values))
    lines.append(_EPILOGUE.rstrip())
    return "\n".join(lines) + "\n"


def profile_source(name: str) -> str:
    return str(PROFILE_DIR / f"{name}.toml")

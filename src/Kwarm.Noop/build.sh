#!/usr/bin/env bash
# Builds the static noop helper: build.sh OUT_DIR [amd64|arm64|all]  (default: all)
# Writes OUT_DIR/noop-amd64 and/or OUT_DIR/noop-arm64. Same toolchain, same bytes:
# no build id, no .comment, no symbols, no paths. Compilers can be overridden with
# CC_AMD64 / CC_ARM64; by default the Debian cross-compiler names are used, or plain
# gcc when it already targets that architecture.
set -euo pipefail
export LC_ALL=C

usage() { echo "usage: $0 OUT_DIR [amd64|arm64|all]" >&2; exit 2; }
[ $# -ge 1 ] && [ $# -le 2 ] && [ -n "$1" ] || usage
out_dir=$1
target=${2-all}
case "$target" in amd64|arm64|all) ;; *) usage ;; esac

here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$out_dir"
out_dir=$(cd "$out_dir" && pwd)

common_flags=(
  -std=c11 -Os -Wall -Wextra -Werror
  -ffreestanding -nostdinc -fno-builtin -fno-tree-loop-distribute-patterns
  -fno-stack-protector -fno-pie -fno-ident
  -fno-asynchronous-unwind-tables -fno-unwind-tables
  -ffunction-sections -fdata-sections
  -nostdlib -static -no-pie
  -Wl,--build-id=none -Wl,-z,noexecstack -Wl,--gc-sections -Wl,-s
)

# Finds a compiler for the triplet: the override, the Debian cross name, or a native gcc.
find_compiler() {
  local variable=$1 triplet=$2 package=$3
  if [ -n "${!variable:-}" ]; then echo "${!variable}"; return; fi
  if command -v "$triplet-gcc" >/dev/null 2>&1; then echo "$triplet-gcc"; return; fi
  if command -v gcc >/dev/null 2>&1 && [ "$(gcc -dumpmachine)" = "$triplet" ]; then echo gcc; return; fi
  echo "build.sh: no C compiler for $triplet: install the Debian package $package (or set $variable)" >&2
  exit 1
}

build() {
  local arch=$1 cc=$2 machine=$3; shift 3
  local out="$out_dir/noop-$arch"
  # Compiled from inside this folder so that no absolute path can reach the output.
  (cd "$here" && "$cc" "${common_flags[@]}" "$@" -o "$out" noop.c)
  chmod 0755 "$out"
  # Guard for the Dockerfile, which has no test run: the binary must be static for the right machine.
  if command -v readelf >/dev/null 2>&1; then
    local headers
    headers=$(readelf -hlW "$out")
    if grep -Eq '^\s*(INTERP|DYNAMIC)\s' <<<"$headers"; then
      echo "build.sh: $out has an ELF interpreter or a dynamic section" >&2; exit 1
    fi
    if ! grep -Eq "^\s*Machine:\s+$machine\s*$" <<<"$headers"; then
      echo "build.sh: $out is not built for $machine" >&2; exit 1
    fi
  fi
  echo "$out"
}

if [ "$target" = amd64 ] || [ "$target" = all ]; then
  cc=$(find_compiler CC_AMD64 x86_64-linux-gnu gcc)
  build amd64 "$cc" 'Advanced Micro Devices X86-64' -fcf-protection=none
fi
if [ "$target" = arm64 ] || [ "$target" = all ]; then
  cc=$(find_compiler CC_ARM64 aarch64-linux-gnu gcc-aarch64-linux-gnu)
  build arm64 "$cc" AArch64 -mbranch-protection=none
fi

#!/bin/sh
# SPDX-License-Identifier: MIT
# Build swede's guest test programs with Debian's riscv64 cross gcc.
#   tests/guests/build.sh OUTDIR
# OUTDIR/<name>.elf        bare-metal programs (tests/guests/*.c except lib.c)
# OUTDIR/user-<name>.elf   user/<name>.c as a bare-metal program (UART shim)
# OUTDIR/user-<name>.linux user/<name>.c as a static Linux program
set -eu
here=$(cd "$(dirname "$0")" && pwd)
out=${1:?usage: build.sh OUTDIR}
mkdir -p "$out"
CC=${CROSS_CC:-riscv64-linux-gnu-gcc}
MARCH=rv64gc_zicsr_zifencei_zba_zbb_zbs
COMMON="-march=$MARCH -mabi=lp64d -O2 -g -Wall -Wextra -Wno-unused-parameter
  -ffp-contract=off -fno-builtin"
BARE="$COMMON -ffreestanding -nostdlib -nostartfiles -static -mcmodel=medany
  -fno-pic -fno-stack-protector -T $here/link.ld -Wl,--no-warn-rwx-segments -Wl,--build-id=none"
RT="$here/start.S $here/lower.S $here/lib.c"

for src in "$here"/*.c; do
    name=$(basename "$src" .c)
    [ "$name" = lib ] && continue
    $CC $BARE -I"$here" -o "$out/$name.elf" $RT "$src" -lgcc
done
for src in "$here"/user/*.c; do
    [ -e "$src" ] || continue
    name=$(basename "$src" .c)
    case $name in shim_*) continue ;; esac
    $CC $BARE -I"$here" -I"$here/user" -o "$out/user-$name.elf" $RT \
        "$here/user/shim_bare.c" "$src" -lgcc
    $CC $COMMON -O1 -static -I"$here/user" -o "$out/user-$name.linux" \
        "$here/user/shim_linux.c" "$src"
done

#!/usr/bin/env bash
# Benchmark: pull + unpack a ~100 MB multi-layer image from a loopback registry,
# Brig (brig pull; brig unpack) against skopeo copy + umoci unpack, side by side in one run.
#
# usage: bench/pull-unpack.sh [RUNS]     (default 5; run as root, after mvn package)
# Prints median times of pull, unpack and both for each tool, their ratios, and Brig's one-shot
# `brig unpack docker://REF BUNDLE` (layers extracted while the others still download).
# env:   BRIG=path/to/bin/brig (default target/brig/bin/brig), KEEP=1 keeps the work dir
# Needs: docker-registry skopeo umoci busybox-static jq (Debian packages). Nothing leaves the machine:
# the image is built here from files of this machine, the registry listens on 127.0.0.1.
set -euo pipefail
RUNS=${1:-5}
HERE=$(cd "$(dirname "$0")" && pwd)
BRIG=${BRIG:-$HERE/../target/brig/bin/brig}
[ -x "$BRIG" ] || { echo "no brig at $BRIG: run mvn -B package -DskipTests first" >&2; exit 2; }
for t in docker-registry skopeo umoci jq busybox; do command -v $t >/dev/null || { echo "missing $t" >&2; exit 2; }; done
WORK=$(mktemp -d -t brig-bench.XXXXXX)
REG_PID=""
cleanup() {
  set +e
  [ -n "$REG_PID" ] && kill "$REG_PID" 2>/dev/null && wait "$REG_PID" 2>/dev/null
  if [ "${KEEP:-0}" = 1 ]; then echo "kept $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT

# --- the image: busybox plus directories of this machine, one layer each (~100 MB) --------------
L=$WORK/layout
mkdir -p "$L/blobs/sha256" "$WORK/rootfs/bin"
cp "$(command -v busybox)" "$WORK/rootfs/bin/busybox"
for a in $("$WORK/rootfs/bin/busybox" --list); do [ "$a" = busybox ] || ln -s busybox "$WORK/rootfs/bin/$a"; done
mkdir -p "$WORK/rootfs/etc" && echo 'root:x:0:0:root:/root:/bin/sh' >"$WORK/rootfs/etc/passwd"
layers=("$WORK/rootfs")
total=0
for d in /usr/lib/python3.11 /usr/share/i18n /usr/share/perl /usr/lib/x86_64-linux-gnu/perl \
         /usr/lib/jvm/temurin-25-jdk-amd64/lib/server /usr/share/zoneinfo /usr/share/locale; do
  [ -d "$d" ] || continue
  [ "$total" -gt 100000 ] && break
  layers+=("$d")
  total=$((total + $(du -sk "$d" | cut -f1)))
done
blob() { # file -> digest hex, moved into the layout
  local h; h=$(sha256sum "$1" | cut -d' ' -f1); mv "$1" "$L/blobs/sha256/$h"; echo "$h"
}
diffs=() descs=()
for d in "${layers[@]}"; do
  # each directory keeps its path in the image (/usr/share/i18n/...), like a real install layer
  if [ "$d" = "$WORK/rootfs" ]; then src=(-C "$d" .); else src=(-C / "${d#/}"); fi
  tar --numeric-owner --sort=name -cf "$WORK/l.tar" "${src[@]}" 2>/dev/null
  diffs+=("sha256:$(sha256sum "$WORK/l.tar" | cut -d' ' -f1)")
  gzip -6 -n "$WORK/l.tar"
  size=$(stat -c %s "$WORK/l.tar.gz"); h=$(blob "$WORK/l.tar.gz")
  descs+=("{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar+gzip\",\"digest\":\"sha256:$h\",\"size\":$size}")
done
printf '%s\n' "${diffs[@]}" | jq -R . | jq -s --arg arch amd64 \
  '{architecture:$arch, os:"linux", config:{Cmd:["sh"], Env:["PATH=/usr/sbin:/usr/bin:/sbin:/bin"]}, rootfs:{type:"layers", diff_ids:.}}' >"$WORK/config.json"
csize=$(stat -c %s "$WORK/config.json"); ch=$(blob "$WORK/config.json")
printf '%s\n' "${descs[@]}" | jq -s --arg c "sha256:$ch" --argjson cs "$csize" \
  '{schemaVersion:2, mediaType:"application/vnd.oci.image.manifest.v1+json",
    config:{mediaType:"application/vnd.oci.image.config.v1+json", digest:$c, size:$cs}, layers:.}' >"$WORK/manifest.json"
msize=$(stat -c %s "$WORK/manifest.json"); mh=$(blob "$WORK/manifest.json")
echo '{"imageLayoutVersion":"1.0.0"}' >"$L/oci-layout"
echo "{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"digest\":\"sha256:$mh\",\"size\":$msize,\"annotations\":{\"org.opencontainers.image.ref.name\":\"bench\"}}]}" >"$L/index.json"

# --- the registry ------------------------------------------------------------------------------
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' 2>/dev/null || echo 5077)
cat >"$WORK/registry.yml" <<EOF
version: 0.1
log: {level: error, accesslog: {disabled: true}}
storage: {filesystem: {rootdirectory: $WORK/registry}}
http: {addr: 127.0.0.1:$PORT}
EOF
docker-registry serve "$WORK/registry.yml" >"$WORK/registry.log" 2>&1 &
REG_PID=$!
for _ in $(seq 100); do curl -sf -o /dev/null "http://127.0.0.1:$PORT/v2/" && break; sleep 0.1; done
IMG=127.0.0.1:$PORT/bench:latest
skopeo copy -q --dest-tls-verify=false "oci:$L:bench" "docker://$IMG"
compressed=$(du -sk "$L/blobs" | cut -f1)
echo "image: ${#layers[@]} layers, $((total / 1024 + 2)) MiB unpacked, $((compressed / 1024)) MiB compressed; registry 127.0.0.1:$PORT; $RUNS runs each, alternating"

# --- the runs ------------------------------------------------------------------------------------
now() { date +%s.%N; }
el() { awk -v a="$1" -v b="$2" 'BEGIN{printf "%.3f", b-a}'; }
run_skopeo() {
  rm -rf "$WORK/s"; mkdir -p "$WORK/s"
  local t0 t1 t2; t0=$(now)
  skopeo copy -q --src-tls-verify=false "docker://$IMG" "oci:$WORK/s/oci:bench"
  t1=$(now)
  umoci unpack --image "$WORK/s/oci:bench" "$WORK/s/bundle" >/dev/null
  t2=$(now)
  echo "$(el "$t0" "$t1") $(el "$t1" "$t2") $(el "$t0" "$t2")"
}
run_oneshot() {
  rm -rf "$WORK/o"; mkdir -p "$WORK/o"
  local t0 t1; t0=$(now)
  "$BRIG" unpack -q --store "$WORK/o/store" "docker://$IMG" "$WORK/o/bundle"
  t1=$(now)
  echo "$(el "$t0" "$t1")"
}
run_brig() {
  rm -rf "$WORK/b"; mkdir -p "$WORK/b"
  local t0 t1 t2; t0=$(now)
  "$BRIG" pull -q --store "$WORK/b/store" "$IMG" >/dev/null
  t1=$(now)
  "$BRIG" unpack --store "$WORK/b/store" "$IMG" "$WORK/b/bundle"
  t2=$(now)
  echo "$(el "$t0" "$t1") $(el "$t1" "$t2") $(el "$t0" "$t2")"
}
: >"$WORK/skopeo.times"; : >"$WORK/brig.times"; : >"$WORK/oneshot.times"
run_brig >/dev/null; run_skopeo >/dev/null   # warm-up: page cache, registry
for _ in $(seq "$RUNS"); do
  run_skopeo >>"$WORK/skopeo.times"
  run_brig >>"$WORK/brig.times"
  run_oneshot >>"$WORK/oneshot.times"
done
# same result: both rootfs trees list the same paths, types, modes, owners, sizes
diff <(cd "$WORK/s/bundle/rootfs" && find . -printf '%p %y %m %U:%G %s %l\n' | sort) \
     <(cd "$WORK/b/bundle/rootfs" && find . -printf '%p %y %m %U:%G %s %l\n' | sort) >/dev/null \
  && echo "rootfs trees: identical" || echo "rootfs trees: DIFFER"

median() { sort -n | awk '{a[NR]=$1} END{print a[int((NR+1)/2)]}'; }
col() { awk -v c="$2" '{print $c}' "$1" | median; }
printf '\n%-8s %22s %22s %10s\n' "" "skopeo copy + umoci" "brig pull + unpack" "ratio"
for c in 1 2 3; do
  name=$(echo "pull unpack total" | cut -d' ' -f$c)
  s=$(col "$WORK/skopeo.times" $c); b=$(col "$WORK/brig.times" $c)
  printf '%-8s %20ss %20ss %9sx\n' "$name" "$s" "$b" "$(awk -v s="$s" -v b="$b" 'BEGIN{printf "%.2f", s/b}')"
done
s=$(col "$WORK/skopeo.times" 3); o=$(col "$WORK/oneshot.times" 1)
printf '%-8s %20ss %20ss %9sx   (brig unpack docker://REF: pull and unpack in one process)\n' "one-shot" "$s" "$o" "$(awk -v s="$s" -v b="$o" 'BEGIN{printf "%.2f", s/b}')"
echo "(median seconds of $RUNS runs; ratio = skopeo+umoci time / brig time, higher is better for brig)"
echo "load average during the run: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores"

#!/bin/bash
# Where a cold Brig call's time goes (`brig --no-server state` and `run` of /bin/true), cut with
# cheap tools: hyperfine of nested commands (a bare JVM hello world with the same runtime, flags
# and an AOT cache of its own; the JVM with Brig's jar and flags doing nothing; --version;
# the JVM with Brig's classes making its first C call, the floor of any cold call; a hello
# world making one FFM call;
# state; run --explain; run), the JVM's own -Xlog:startuptime, and -Xlog:class+load counts
# (from the AOT cache or from the jar). Beside them crun's run, for issue 10's target
# "cold run <= bare JVM hello world + crun's run".
#
#   flock /tmp/brig-it.lock bench/v1-hugetlb.sh bench/cold-cut.sh      (as root, after a build)
#
# Knobs: RUNS (default 20), BRIG (default target/brig/bin/brig), KEEP=1.
set -euo pipefail
RUNS=${RUNS:-20}
top=$(cd "$(dirname "$0")/.." && pwd)
BRIG=${BRIG:-$top/target/brig/bin/brig}
home=$(cd "$(dirname "$BRIG")/.." && pwd)
java=$home/runtime/bin/java
JAVAC=${JAVAC:-/usr/lib/jvm/temurin-25-jdk-amd64/bin/javac}
die() { echo "cold-cut: $*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || die "run as root"
[ -x "$java" ] || die "no $java: build first"
[ -x "$JAVAC" ] || die "no javac at $JAVAC (JAVAC=...)"
work=$(mktemp -d /tmp/brig-coldcut.XXXXXX)
ID=coldcut-$$
cleanup() {
    for x in "$ID" "$ID-s"; do "$BRIG" --no-server --root "$work/state" delete -f "$x" >/dev/null 2>&1 || true; done
    crun --root "$work/state-crun" delete -f "$ID" >/dev/null 2>&1 || true
    if [ "${KEEP:-0}" = 1 ]; then echo "kept $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT

# The cold path's JVM flags, as bin/brig passes them (src/main/c/brig-client.c), minus -Xlog:disable.
FLAGS=(-XX:TieredStopAtLevel=1 -XX:+UseSerialGC -XX:-UsePerfData --enable-native-access=ALL-UNNAMED "-Dbrig.home=$home")

b=$work/bundle
mkdir -p "$b/rootfs/bin"
cp /bin/busybox "$b/rootfs/bin/busybox"; ln -s busybox "$b/rootfs/bin/true"; ln -s busybox "$b/rootfs/bin/sleep"
(cd "$b" && runc spec) && jq '.process.terminal = false | .process.args = ["/bin/true"]' "$b/config.json" >"$b/c" && mv "$b/c" "$b/config.json"
sb=$work/sleeper; cp -a "$b" "$sb"; jq '.process.args = ["/bin/sleep", "1000"]' "$b/config.json" >"$sb/config.json"
"$BRIG" --no-server --root "$work/state" run -d --bundle "$sb" "$ID-s" </dev/null >/dev/null 2>&1 || die "run -d failed"

# A hello world with an AOT cache made the way Brig's is (JDK 25: -XX:AOTCacheOutput, one training run).
mkdir -p "$work/hello"
printf 'public class Hello { public static void main(String[] a) { System.out.println("hello"); } }\n' >"$work/hello/Hello.java"
"$JAVAC" --release 25 -d "$work/hello" "$work/hello/Hello.java"
"$(dirname "$JAVAC")/jar" --create --file "$work/hello.jar" -C "$work/hello" Hello.class # the cache takes classes from jars only
"$java" "${FLAGS[@]}" -XX:AOTCacheOutput="$work/hello.aot" -cp "$work/hello.jar" Hello >/dev/null 2>"$work/aot.log" || die "hello AOT: $(tail -3 "$work/aot.log")"
HELLO=("$java" "${FLAGS[@]}" -XX:AOTCache="$work/hello.aot" -Xlog:disable -cp "$work/hello.jar" Hello)
# The floor of a cold Brig call: Brig's JVM (its jar, AOT cache and flags, interpreted as bin/brig
# runs runc's verbs) that makes its first C call (the FFM link) and nothing else.
printf 'public class Floor { public static void main(String[] a) { System.out.println(brig.syscalls.Libc.geteuid()); } }\n' >"$work/hello/Floor.java"
"$JAVAC" --release 25 -cp "$home/lib/brig.jar" -d "$work/hello" "$work/hello/Floor.java"
"$(dirname "$JAVAC")/jar" --create --file "$work/floor.jar" -C "$work/hello" Floor.class
# A bare hello world that makes one C call through FFM, with an AOT cache of its own: the floor
# of any JVM that makes system calls the way Brig does, whatever else it runs.
cat >"$work/hello/HelloFfm.java" <<'EOJ'
import java.lang.foreign.*;
public class HelloFfm {
    public static void main(String[] a) throws Throwable {
        Linker l = Linker.nativeLinker();
        var h = l.downcallHandle(l.defaultLookup().find("geteuid").get(), FunctionDescriptor.of(ValueLayout.JAVA_INT));
        System.out.println("hello " + (int) h.invokeExact());
    }
}
EOJ
"$JAVAC" --release 25 -d "$work/hello" "$work/hello/HelloFfm.java"
"$(dirname "$JAVAC")/jar" --create --file "$work/hello-ffm.jar" -C "$work/hello" HelloFfm.class
"$java" -Xint "${FLAGS[@]}" -XX:AOTCacheOutput="$work/hello-ffm.aot" -cp "$work/hello-ffm.jar" HelloFfm >/dev/null 2>"$work/aot.log" || die "hello-ffm AOT: $(tail -3 "$work/aot.log")"
HELLO_FFM=("$java" -Xint "${FLAGS[@]}" -XX:AOTCache="$work/hello-ffm.aot" -Xlog:disable -cp "$work/hello-ffm.jar" HelloFfm)
FLOOR=("$java" -Xint "${FLAGS[@]}" -XX:AOTCache="$home/lib/brig.aot" -Xlog:disable -cp "$home/lib/brig.jar:$work/floor.jar" Floor)
HELLO_NOAOT=("$java" "${FLAGS[@]}" -Xlog:disable -cp "$work/hello.jar" Hello)
S="$BRIG --no-server --root $work/state"
echo "== machine: $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg); $("$java" -version 2>&1 | sed -n 2p)"
hyperfine -N --style none --warmup 3 --runs "$RUNS" --export-json "$work/h.json" \
    -n "java Hello (no AOT cache)" "${HELLO_NOAOT[*]}" \
    -n "java Hello (AOT cache)" "${HELLO[*]}" \
    -n "java brig.cli.Main --version (no supervisor, Brig's AOT cache)" "$java ${FLAGS[*]} -XX:AOTCache=$home/lib/brig.aot -Xlog:disable -cp $home/lib/brig.jar brig.cli.Main --version" \
    -n "java HelloFfm (hello world + one FFM call, its own AOT cache)" "${HELLO_FFM[*]}" \
    -n "java Floor (Brig's JVM, its first C call)" "${FLOOR[*]}" \
    -n "brig --version (cold)" "$S --version" \
    -n "brig state (cold)" "$S state $ID-s" \
    -n "brig state (warm)" "$BRIG --root $work/state state $ID-s" \
    -n "brig run --explain (cold)" "$S run --explain --bundle $b $ID" \
    -n "brig run (cold)" "$S run --bundle $b $ID" \
    -n "crun run" "crun --root $work/state-crun run --bundle $b $ID" >/dev/null 2>"$work/h.err" || die "hyperfine: $(tail -3 "$work/h.err")"
"$BRIG" server stop >/dev/null 2>&1 || true
echo "== medians of $RUNS runs (ms)"
jq -r '.results[] | "  \(.median * 1000 * 10 | round / 10)\t\(.command)"' "$work/h.json"
m() { jq -r --arg n "$1" '.results[] | select(.command == $n) | .median * 1000' "$work/h.json"; }
hello=$(m "java Hello (AOT cache)") crun=$(m "crun run") run=$(m "brig run (cold)")
floor=$(m "java Floor (Brig's JVM, its first C call)") hffm=$(m "java HelloFfm (hello world + one FFM call, its own AOT cache)")
awk -v h="$hello" -v c="$crun" -v r="$run" -v f="$floor" -v x="$hffm" 'BEGIN { printf "issue 10 target: cold run %.1f ms vs hello world + crun run = %.1f + %.1f = %.1f ms: ratio %.2f\nthe floor (Brig'"'"'s JVM and its first C call) %.1f ms: alone %.2fx the target; a hello world with one FFM call %.1f ms: %.2fx\n", r, h, c, h + c, r / (h + c), f, f / (h + c), x, x / (h + c) }'

echo "== the JVM's own account of one cold state (-Xlog:startuptime; Main run directly, no supervisor)"
"$java" "${FLAGS[@]}" -XX:AOTCache="$home/lib/brig.aot" -Xlog:startuptime:stderr -Xlog:class+load=info:file="$work/cl.state" \
    -cp "$home/lib/brig.jar" brig.cli.Main --root "$work/state" state "$ID-s" 2>&1 >/dev/null | sed -n "s/.*\\[startuptime\\] */  /p" | grep -v "generat\|StubRoutines\|SharedRuntime\|adapters"
echo "== classes loaded (one call each): from the AOT cache / from the jar or the runtime image / total"
count() { # count FILE
    awk '/source: shared objects file/ {a++; next} /source:/ {o++} END {printf "%d / %d / %d\n", a, o, a + o}' "$1"
}
echo "  state:          $(count "$work/cl.state")"
"$java" "${FLAGS[@]}" -XX:AOTCache="$home/lib/brig.aot" -Xlog:class+load=info:file="$work/cl.explain" \
    -cp "$home/lib/brig.jar" brig.cli.Main --root "$work/state" run --explain --bundle "$b" "$ID" >/dev/null 2>&1 || true
echo "  run --explain:  $(count "$work/cl.explain")"
"$java" "${FLAGS[@]}" -XX:AOTCache="$work/hello.aot" -Xlog:class+load=info:file="$work/cl.hello" -cp "$work/hello.jar" Hello >/dev/null
echo "  Hello:          $(count "$work/cl.hello")"
echo "  not from the cache, state (first 15):"
grep 'source:' "$work/cl.state" | grep -v 'shared objects file' | sed 's/.*\] \([^ ]*\) source: \(.*\)/    \1 (\2)/' | head -15
echo "  not from the cache, run --explain (first 15):"
grep 'source:' "$work/cl.explain" | grep -v 'shared objects file' | sed 's/.*\] \([^ ]*\) source: \(.*\)/    \1 (\2)/' | head -15

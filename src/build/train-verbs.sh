#!/bin/sh
# AOT caches of their own for the light runtime verbs engines call most (lib/aot/VERB.aot),
# each trained on one cold call of that verb as bin/brig makes it (brig-helper launch, the cold
# path's flags, -Xint). JDK 25 loads and links every class of its cache when the JVM starts:
# the full cache holds ~2530 classes (21 MB), state's ~1500 (12 MB). Measured, cold, against
# the full cache: state 54.6 -> 47.5 ms, kill 74.8 -> 69.3, delete 80.1 -> 75.9. Not worth their
# 15-16 MB each: run (-2 to -4 ms), start (none); create and exec load as much as run.
# bin/brig falls back to lib/brig.aot for a verb without one. Needs root (real containers).
# The flags repeat bin/brig's cold ones (src/main/c/brig-client.c): a cache made with others is
# refused at start, with an [aot] error on stderr, which CommandLineIT looks for.
set -eu
dist=$1
rm -rf "$dist/lib/aot"
[ "$(id -u)" = 0 ] || exit 0
java=$dist/runtime/bin/java
flags="-XX:TieredStopAtLevel=1 -XX:+UseSerialGC -XX:-UsePerfData -Xlog:disable -Xlog:all=error:stderr --enable-native-access=ALL-UNNAMED -Dbrig.home=$dist"
t=$(mktemp -d)
b="$dist/bin/brig --no-server --root $t/state"
cleanup() {
    $b delete -f tv >/dev/null 2>&1 || true
    rm -rf "$t"
}
trap cleanup EXIT
mkdir -p "$dist/lib/aot"
"$java" $flags -XX:AOTCache="$dist/lib/brig.aot" -cp "$dist/lib/brig.jar" brig.cli.Training --bundle "$t/sleep" /bin/sleep 1000
# train VERB ARGS...: one cold call, its cache written when it exits
train() {
    BRIG_SERVER=off "$dist/libexec/brig-helper" launch "$java" -Xint $flags -XX:AOTCacheOutput="$dist/lib/aot/$1.aot" \
        -cp "$dist/lib/brig.jar" brig.cli.Main --root "$t/state" "$@" </dev/null >/dev/null 2>&1
}
$b run -d --bundle "$t/sleep" tv </dev/null >/dev/null 2>&1
train state tv
train kill tv KILL
for _ in 1 2 3 4 5 6 7 8 9 10; do $b state tv 2>/dev/null | grep -q '"stopped"' && break; sleep 0.1; done
train delete tv

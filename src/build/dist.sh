#!/bin/sh
# Assemble target/brig: a jlink'd Java runtime, the build's id, and a JDK 25 AOT cache trained
# on brig's own commands (it roughly halves JVM start-up, which every CLI call pays).
set -eu
jdk=$1 dist=$2 src=$3
modules=java.base,java.net.http,jdk.unsupported

# The runtime is rebuilt only when the JDK or the module list changes.
stamp="$($jdk/bin/java -version 2>&1 | head -1) $modules"
if [ ! -f "$dist/runtime/.stamp" ] || [ "$(cat "$dist/runtime/.stamp")" != "$stamp" ]; then
    rm -rf "$dist/runtime"
    "$jdk/bin/jlink" --add-modules "$modules" --strip-debug --no-man-pages --no-header-files \
        --output "$dist/runtime"
    echo "$stamp" > "$dist/runtime/.stamp"
fi

# bin/brig is the native client (src/main/c/brig-client.c, built with the helper). The build's
# content hash: a resident server of another build steps aside when a client of this one calls.
(cd "$dist" && cat lib/*.jar libexec/brig-helper bin/brig | sha256sum | cut -d' ' -f1) > "$dist/lib/brig.build"

# AOT cache: same flags as the launcher, plus the training run. BRIG_SERVER=off: the training's
# `container run -d` starts its monitor through bin/brig, which would leave a resident server.
rm -f "$dist/lib/brig.aot"
train=$(mktemp -d)
BRIG_SERVER=off "$dist/runtime/bin/java" -XX:TieredStopAtLevel=1 -XX:+UseSerialGC -XX:-UsePerfData \
    -Xlog:disable -Xlog:all=error:stderr -XX:AOTCacheOutput="$dist/lib/brig.aot" \
    --enable-native-access=ALL-UNNAMED -Dbrig.home="$dist" -cp "$dist/lib/brig.jar" \
    brig.cli.Training "$train" >/dev/null 2>&1 || echo "brig build: AOT training failed; brig works, but starts slower" >&2
rm -rf "$train"
# Caches of their own for the verbs engines call most (needs root; none: the full one serves).
"$(dirname "$0")/train-verbs.sh" "$dist" || echo "brig build: per-verb AOT training failed; brig works, with the full cache" >&2

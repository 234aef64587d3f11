# Sourced by the bench scripts: true_bundle DIR makes DIR an OCI bundle of busybox /bin/true
# (runc's default config, no terminal), the container every timing here runs.
true_bundle() {
    mkdir -p "$1/rootfs/bin"
    cp /bin/busybox "$1/rootfs/bin/busybox"; ln -s busybox "$1/rootfs/bin/true"
    (cd "$1" && runc spec) && python3 - "$1/config.json" <<'PY'
import json,sys
c=json.load(open(sys.argv[1])); c['process']['terminal']=False; c['process']['args']=['/bin/true']
json.dump(c,open(sys.argv[1],'w'))
PY
}

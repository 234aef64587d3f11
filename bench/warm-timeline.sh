#!/bin/bash
# Where a warm `brig run` of /bin/true spends its time, without slowing it much: kernel
# tracepoints recorded by perf (process exec/fork/exit, connect, mkdir/rmdir, clone3, mount,
# pivot_root, cgroup attach), then the median time of each milestone from the client's exec.
# Unlike strace (bench/warm-trace.sh, 3-8x slower), the traced runs take about their untraced
# time, so the gaps can be read as they are. A second pass traces the server JVM alone (its
# reads and writes) for the server's share: request read -> plan sent to the helper -> answer.
#
#   flock /tmp/brig-it.lock bench/warm-timeline.sh     (as root, after a build)
#
# Never add write/openat/read events to the system-wide pass: perf's own writes are traced then,
# and the data file grows without end (83 GB in 8 minutes, here). The server pass is per pid.
# Knobs: N (traced runs, default 20), WARM (untraced runs first, default 100), BRIG, KEEP=1.
set -euo pipefail
N=${N:-20} WARM=${WARM:-100}
top=$(cd "$(dirname "$0")/.." && pwd)
BRIG=${BRIG:-$top/target/brig/bin/brig}
die() { echo "warm-timeline: $*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || die "run as root"
for t in perf python3 runc; do command -v $t >/dev/null || die "missing $t"; done
work=$(mktemp -d /tmp/brig-timeline.XXXXXX)
cleanup() {
    for d in "$work"/state/*/; do [ -d "$d" ] && "$BRIG" --root "$work/state" delete -f "$(basename "$d")" >/dev/null 2>&1; done
    if [ "${KEEP:-0}" = 1 ]; then echo "kept $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT
b=$work/bundle
. "$top/bench/true-bundle.sh"
true_bundle "$b"
run() { "$BRIG" --root "$work/state" run --bundle "$b" "$1"; }
for i in $(seq "$WARM"); do run "w$i"; done
echo "== $N traced runs after $WARM untraced ones (load: $(cut -d' ' -f1-3 /proc/loadavg))"
perf record -q -a -o "$work/all.data" -e sched:sched_process_exec,sched:sched_process_fork,sched:sched_process_exit,syscalls:sys_enter_connect,syscalls:sys_enter_mkdir,syscalls:sys_enter_rmdir,syscalls:sys_enter_pivot_root,cgroup:cgroup_attach_task,syscalls:sys_enter_clone3,syscalls:sys_enter_mount \
    -- bash -c "for i in \$(seq $N); do $BRIG --root $work/state run --bundle $b t\$i; done" >/dev/null 2>&1
perf script -i "$work/all.data" -F comm,tid,time,event 2>/dev/null >"$work/all.txt"
python3 - "$work/all.txt" <<'PY'
import re,sys,statistics as st
ev=[]
for l in open(sys.argv[1]):
    m=re.match(r'\s*(.+?)\s+(\d+)\s+([\d.]+):\s+(\S+):',l)
    if m: ev.append((float(m.group(3))*1000,m.group(1).strip(),m.group(4).split(':')[-1]))
runs=[i for i,e in enumerate(ev) if e[1]=='brig' and e[2]=='sched_process_exec']
steps=[('client connects','first',lambda e:e[1]=='brig' and e[2]=='sys_enter_connect'),
 ('supervisor exec\'d','first',lambda e:e[1].startswith('brig-hel') and e[2]=='sched_process_exec'),
 ('helper started (ahead)','first',lambda e:e[1].isdigit() and e[2]=='sched_process_exec'),
 ('first mkdir (state, cgroups)','first',lambda e:e[1].startswith('brig-cal') and e[2]=='sys_enter_mkdir'),
 ('last mkdir','last',lambda e:e[1].startswith('brig-cal') and e[2]=='sys_enter_mkdir'),
 ('helper clone3','first',lambda e:e[1].isdigit() and e[2]=='sys_enter_clone3'),
 ('first process exists','first',lambda e:e[1].isdigit() and e[2]=='sched_process_fork'),
 ('first mount','first',lambda e:e[1].isdigit() and e[2]=='sys_enter_mount'),
 ('first v1 join','first',lambda e:e[1].startswith('brig-cal') and e[2]=='cgroup_attach_task'),
 ('pivot_root','first',lambda e:e[2]=='sys_enter_pivot_root'),
 ('/bin/true exec\'d','first',lambda e:e[1]=='true' and e[2]=='sched_process_exec'),
 ('/bin/true exits','first',lambda e:e[1]=='true' and e[2]=='sched_process_exit'),
 ('first rmdir','first',lambda e:e[2]=='sys_enter_rmdir'),
 ('last rmdir','last',lambda e:e[2]=='sys_enter_rmdir'),
 ('caller\'s process exits','last',lambda e:e[1].startswith('brig-hel') and e[2]=='sched_process_exit')]
res={s[0]:[] for s in steps}
for r,i in enumerate(runs):
    seg=ev[i:(runs[r+1] if r+1<len(runs) else len(ev))]; t0=seg[0][0]
    for name,which,cond in steps:
        hits=[e[0]-t0 for e in seg if cond(e)]
        if hits: res[name].append(hits[0] if which=='first' else hits[-1])
print('%-30s %9s  (runs)' % ('milestone (ms from exec of bin/brig)','median'))
for name,_,_ in steps:
    if res[name]: print('%-30s %9.2f  (%d)' % (name, st.median(res[name]), len(res[name])))
PY
sp=$("$BRIG" server status | sed -n 's/running: pid //p')
[ -n "$sp" ] || die "no server"
perf record -q -p "$sp" -o "$work/srv.data" -e syscalls:sys_enter_write,syscalls:sys_enter_read \
    -- bash -c "for i in \$(seq $N); do $BRIG --root $work/state run --bundle $b s\$i; done" >/dev/null 2>&1
perf script -i "$work/srv.data" -F comm,tid,time,event,trace 2>/dev/null >"$work/srv.txt"
python3 - "$work/srv.txt" <<'PY'
import re,sys,statistics as st
ev={}
for l in open(sys.argv[1]):
    m=re.match(r'\s*(.+?)\s+(\d+)\s+([\d.]+):\s+(\S+):\s*(.*)',l)
    if m and m.group(1).startswith('brig-call'): ev.setdefault(m.group(2),[]).append((float(m.group(3))*1000,m.group(4),m.group(5)))
rows=[]
for es in ev.values():
    # The call's connection: the fd of its first write (READY, after the hello).
    w=[e for e in es if 'write' in e[1]]
    if not w: continue
    conn=w[0][2].split(',')[0]
    req=next((e[0] for e in es if 'read' in e[1] and e[2].startswith(conn) and e[0]>w[0][0]),None)
    plan=next((e[0] for e in es if 'write' in e[1] and int(e[2].split('count: ')[1],16)>3000),None)
    exits=[e[0] for e in es if 'write' in e[1] and e[2].startswith(conn) and 'count: 0x0000000c' in e[2]]
    if req and plan and exits: rows.append((plan-req, exits[-1]-plan))
if rows:
    print('server: request read -> plan sent to the helper %.2f ms; plan sent -> last answer %.2f ms (median of %d)'
          % (st.median(r[0] for r in rows), st.median(r[1] for r in rows), len(rows)))
PY

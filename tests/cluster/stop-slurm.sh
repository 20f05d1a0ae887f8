#!/usr/bin/env bash
# Stop exactly the daemons start-slurm.sh started, by the pids it recorded in $STATE.
set -uo pipefail
STATE=${SPECTRAL_SLURM_DIR:-/tmp/spectral-slurm}
for name in slurmd slurmctld munged; do
    pidfile=$STATE/$name.pid
    [[ -s $pidfile ]] || continue
    pid=$(cat "$pidfile")
    if kill "$pid" 2>/dev/null; then
        for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -0 "$pid" 2>/dev/null && kill -9 "$pid"
    fi
    rm -f "$pidfile"
done
if grep -qF "# written by spectral-repro tests/cluster/start-slurm.sh" /etc/slurm/slurm.conf 2>/dev/null; then
    rm -f /etc/slurm/slurm.conf
fi
echo "SLURM stopped"

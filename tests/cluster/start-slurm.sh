#!/usr/bin/env bash
# Start a real single-node SLURM (slurmctld + slurmd, munge auth, accounting off) for the integration tests.
# Debian, as root. Installs slurm-wlm and munge from Debian's packages if missing. Everything SLURM-specific lives
# in $STATE (default /tmp/spectral-slurm): slurm.conf, spool dirs, logs and the pid files that stop-slurm.sh uses.
# The config is also installed as /etc/slurm/slurm.conf (the default path), because the job steps that Snakemake's
# executor starts with srun inside each job do not inherit SLURM_CONF; an /etc/slurm/slurm.conf that this script did
# not write is never overwritten (the script stops instead).
set -euo pipefail
STATE=${SPECTRAL_SLURM_DIR:-/tmp/spectral-slurm}
[[ $(id -u) -eq 0 ]] || { echo "start-slurm.sh: needs root" >&2; exit 1; }

if ! command -v slurmctld >/dev/null || ! command -v munged >/dev/null; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -qq slurm-wlm munge >/dev/null 2>&1 || { apt-get update -qq >/dev/null; apt-get install -y -qq slurm-wlm munge >/dev/null; }
fi

# A cluster this script started before and never stopped is stopped first (by its recorded pids).
if compgen -G "$STATE/*.pid" >/dev/null; then
    bash "$(dirname "$0")/stop-slurm.sh" >/dev/null
fi
mkdir -p "$STATE"/{spool/ctld,spool/d,log}
# munge: a key for this host (kept if present), then the daemon as the munge user; we record its pid.
if [[ ! -s /etc/munge/munge.key ]]; then
    mkdir -p /etc/munge
    dd if=/dev/urandom of=/etc/munge/munge.key bs=1 count=1024 status=none
fi
chown munge:munge /etc/munge/munge.key && chmod 400 /etc/munge/munge.key
mkdir -p /run/munge /var/log/munge /var/lib/munge && chown munge:munge /run/munge /var/log/munge /var/lib/munge
if ! munge -n </dev/null 2>/dev/null | unmunge >/dev/null 2>&1; then
    runuser -u munge -- /usr/sbin/munged
    for _ in $(seq 50); do [[ -s /run/munge/munged.pid ]] && break; sleep 0.1; done
    cp /run/munge/munged.pid "$STATE/munged.pid"
fi

host=$(hostname -s)
node=$(slurmd -C | head -1 | sed 's/ UpTime=.*//')
cat > "$STATE/slurm.conf" <<CONF
ClusterName=spectral-test
SlurmctldHost=$host
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
StateSaveLocation=$STATE/spool/ctld
SlurmdSpoolDir=$STATE/spool/d
SlurmctldPidFile=$STATE/slurmctld.pid
SlurmdPidFile=$STATE/slurmd.pid
SlurmctldLogFile=$STATE/log/slurmctld.log
SlurmdLogFile=$STATE/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
SchedulerType=sched/backfill
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/none
MpiDefault=none
ReturnToService=2
# Keep finished jobs visible to squeue for an hour: snakemake's executor reads their final state from squeue
# because sacct needs accounting (slurmdbd), which this test cluster leaves off.
MinJobAge=3600
$node State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
CONF
export SLURM_CONF=$STATE/slurm.conf
MARK="# written by spectral-repro tests/cluster/start-slurm.sh"
if [[ -e /etc/slurm/slurm.conf ]] && ! grep -qF "$MARK" /etc/slurm/slurm.conf; then
    echo "start-slurm.sh: /etc/slurm/slurm.conf exists and is not ours; refusing to overwrite it" >&2
    exit 1
fi
mkdir -p /etc/slurm
{ echo "$MARK"; cat "$SLURM_CONF"; } > /etc/slurm/slurm.conf
slurmctld -f "$SLURM_CONF"
slurmd -f "$SLURM_CONF"
for _ in $(seq 60); do
    state=$(sinfo -h -o %T 2>/dev/null || true)
    [[ $state == idle ]] && { echo "SLURM up: node $host idle; SLURM_CONF=$SLURM_CONF"; exit 0; }
    sleep 1
done
echo "start-slurm.sh: node never became idle (state: ${state:-none}); see $STATE/log" >&2
exit 1

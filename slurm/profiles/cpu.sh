# Example site profile: a CPU partition. Copy it, edit it, then
#   source slurm/profiles/cpu.sh && jobs/sweep.sh CONFIG
# jobs/sweep.sh turns these variables into sbatch options for the three jobs
# (jobs/embed.sbatch, reduce.sbatch, report.sbatch); unset or empty ones are
# left to the scripts' #SBATCH defaults (2 tasks, 2 h). For a direct
# `sbatch jobs/embed.sbatch CONFIG`, give the same options on its command line.
# Set threads_per_rank in the config to the CPUs each task may use.

# PRH_PARTITION: the partition (sbatch --partition) for all three jobs.
# Empty: the cluster's default partition (`debug` on slurm/local/start.sh's).
export PRH_PARTITION=${PRH_PARTITION-}

# PRH_ACCOUNT: the account charged (sbatch --account); empty: your default.
export PRH_ACCOUNT=${PRH_ACCOUNT-}

# PRH_TIME: the time limit of embed and reduce (sbatch --time, e.g. 12:00:00
# or 1-00:00:00). A stage that runs out of time is stopped 120 s before the
# limit and requeued, and resumes, so a limit shorter than the sweep only costs
# queue waits.
export PRH_TIME=${PRH_TIME-04:00:00}

# PRH_NODES: nodes for embed and reduce (sbatch --nodes).
export PRH_NODES=${PRH_NODES-1}

# PRH_TASKS_PER_NODE: MPI ranks per node for embed and reduce
# (sbatch --ntasks-per-node; --ntasks = PRH_NODES * PRH_TASKS_PER_NODE).
# On CPUs: cores per node / threads_per_rank.
export PRH_TASKS_PER_NODE=${PRH_TASKS_PER_NODE-2}

# PRH_GPUS_PER_NODE: GPUs per node (sbatch --gpus-per-node); empty: none.
export PRH_GPUS_PER_NODE=${PRH_GPUS_PER_NODE-}

# PRH_EXTRA_SBATCH: any other sbatch options, split on spaces, for all three
# jobs, e.g. "--qos=normal --mail-type=FAIL --mail-user=me@example.org".
export PRH_EXTRA_SBATCH=${PRH_EXTRA_SBATCH-}

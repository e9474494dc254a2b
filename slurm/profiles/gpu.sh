# Example site profile: a GPU partition, one MPI rank per GPU. Copy it, edit
# it, then
#   source slurm/profiles/gpu.sh && jobs/sweep.sh CONFIG
# with `device: cuda` in the config (rank r uses GPU r % the GPUs it sees).
# jobs/sweep.sh turns these variables into sbatch options for the three jobs
# (jobs/embed.sbatch, reduce.sbatch, report.sbatch); unset or empty ones are
# left to the scripts' #SBATCH defaults. For a direct `sbatch
# jobs/embed.sbatch CONFIG`, give the same options on its command line.

# PRH_PARTITION: the partition (sbatch --partition) for all three jobs.
# The report job needs no GPU: if the GPU partition insists on one, give it
# another partition by submitting jobs/report.sbatch yourself.
export PRH_PARTITION=${PRH_PARTITION-gpu}

# PRH_ACCOUNT: the account charged (sbatch --account); empty: your default.
export PRH_ACCOUNT=${PRH_ACCOUNT-}

# PRH_TIME: the time limit of embed and reduce (sbatch --time). A stage that
# runs out of time is stopped 120 s before the limit, requeued, and resumes.
export PRH_TIME=${PRH_TIME-12:00:00}

# PRH_NODES: nodes for embed and reduce (sbatch --nodes).
export PRH_NODES=${PRH_NODES-1}

# PRH_TASKS_PER_NODE: MPI ranks per node for embed and reduce
# (--ntasks-per-node; --ntasks = PRH_NODES * PRH_TASKS_PER_NODE): one per GPU.
export PRH_TASKS_PER_NODE=${PRH_TASKS_PER_NODE-4}

# PRH_GPUS_PER_NODE: GPUs per node for embed and reduce (sbatch
# --gpus-per-node); reduce runs on CPUs, but keeping the same allocation shape
# keeps the chain simple. Set it to 0 or empty to run reduce without GPUs by
# submitting jobs/reduce.sbatch yourself.
export PRH_GPUS_PER_NODE=${PRH_GPUS_PER_NODE-4}

# PRH_EXTRA_SBATCH: any other sbatch options, split on spaces, for all three
# jobs, e.g. "--constraint=a100 --cpus-per-task=8".
export PRH_EXTRA_SBATCH=${PRH_EXTRA_SBATCH-}

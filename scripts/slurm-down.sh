#!/usr/bin/env bash
# Stops the single-node Slurm started by scripts/slurm-up.sh (slurmd, slurmctld, munged).
exec "$(dirname "$0")/slurm-up.sh" down

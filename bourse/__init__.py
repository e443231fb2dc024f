"""The `bourse` command: mounts each package's CLI group, nothing else."""

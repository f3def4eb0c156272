"""Running the machine: the scheduler and its lease, jobs declared as data, background tasks,
system settings."""

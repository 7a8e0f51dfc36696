-- Receive the workers' wake-ups (notify_workers.sql). No parameters.
LISTEN keel_queued

-- Receive the schedulers' wake-ups (notify_scheduler.sql). No parameters.
LISTEN keel_scheduler

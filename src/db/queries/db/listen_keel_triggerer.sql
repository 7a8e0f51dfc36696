-- Receive the triggerers' wake-ups (notify_triggerers.sql). No parameters.
LISTEN keel_triggerer

-- Turns maintenance mode on or off. $1 on (boolean), $2 message shown to users (text, null when off).
-- The start time is kept when it was already on.
UPDATE operator_notice
SET maintenance = $1, maintenance_message = CASE WHEN $1 THEN $2 END,
    maintenance_since = CASE WHEN NOT $1 THEN NULL WHEN maintenance THEN maintenance_since ELSE now() END,
    updated_at = now()
RETURNING maintenance, maintenance_message, maintenance_since, announcement, updated_at

-- Sets or clears the operator announcement banner. $1 text (null clears it).
UPDATE operator_notice SET announcement = $1, updated_at = now()
RETURNING maintenance, maintenance_message, maintenance_since, announcement, updated_at

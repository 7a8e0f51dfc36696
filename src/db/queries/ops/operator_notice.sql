-- The operator notice: maintenance mode, its message and start, the announcement. No parameters.
SELECT maintenance, maintenance_message, maintenance_since, announcement, updated_at FROM operator_notice

-- Every variable. No parameters.
SELECT key, value, description, updated_at FROM variable ORDER BY key

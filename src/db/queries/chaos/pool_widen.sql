-- The chaos cluster's default pool never limits its runs. No parameters.
UPDATE pool SET slots = 1000 WHERE name = 'default_pool'

-- DAG files that failed to load at their last parse. No parameters.
SELECT fileloc, import_error AS error, import_error_at AS at FROM dag_file WHERE import_error IS NOT NULL ORDER BY fileloc

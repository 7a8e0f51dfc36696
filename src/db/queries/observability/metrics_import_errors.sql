-- DAG files that failed to load at their last parse (the keel_dag_import_errors gauge). No parameters.
SELECT count(*)::int AS n FROM dag_file WHERE import_error IS NOT NULL

// Error classes that decide a process's exit code: UsageError → 2 (bad usage or input),
// anything else → 1.

/** Bad input from a user: a flag, a config value, a param, an unknown DAG id. Exit code 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** The database could not be reached within the configured retry time. Exit code 1. */
export class DatabaseUnavailableError extends Error {
  override name = 'DatabaseUnavailableError';
}

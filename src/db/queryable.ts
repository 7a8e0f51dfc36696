// What runs one statement: a Database (autocommit on its primary pool) or a Tx. Its own
// module so that the read router and loaders can name it without importing the Database.
import type { QueryResult, QueryResultRow } from 'pg';

type DefaultRow = QueryResult['rows'][number];

export interface Queryable {
  query<R extends QueryResultRow = DefaultRow>(text: string, values?: unknown[]): Promise<QueryResult<R>>;
}

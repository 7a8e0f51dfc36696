// `npm run gen:queries`: writes src/db/query-names.ts, the union of the statement names in
// src/db/queries/. Run it after adding, renaming or removing a .sql file there
// (test/unit/queries.test.ts fails while the file is out of date).
import { writeFileSync } from 'node:fs';
import { QUERY_NAMES_FILE, queryNames, queryNamesSource } from './query-files.js';

const names = queryNames();
writeFileSync(QUERY_NAMES_FILE, queryNamesSource(names));
console.log(`${QUERY_NAMES_FILE}: ${names.length} statement names`);

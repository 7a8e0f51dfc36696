// Database names and URLs shared by the test runner and the tests.
export const TEMPLATE_DB = 'keel_test_template';

export { withDatabase } from '../../src/db/url.js';

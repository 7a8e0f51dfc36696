// deploy/prometheus/alerts.yml: valid rules (`promtool check rules`), every rule firing and
// staying quiet as its unit tests expect (`promtool test rules`, deploy/prometheus/alerts.test.yml),
// and every rule carrying a runbook_url that names a runbook in docs/runbooks/.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { requireTool } from '../support/tools.js';

const PROMTOOL = requireTool('/usr/bin/promtool', 'prometheus');
const root = (path: string) => fileURLToPath(new URL(`../../${path}`, import.meta.url));
const RULES = root('deploy/prometheus/alerts.yml');

const promtool = (...args: string[]) => spawnSync(PROMTOOL, args, { cwd: root('deploy/prometheus'), encoding: 'utf8' });

test('promtool check rules accepts the alert rules', () => {
  const r = promtool('check', 'rules', RULES);
  assert.equal(r.status, 0, r.stdout + r.stderr);
});

test('promtool test rules: each alert fires when its condition holds and not before', () => {
  const r = promtool('test', 'rules', 'alerts.test.yml');
  assert.equal(r.status, 0, r.stdout + r.stderr);
  const tested = new Set([...readFileSync(root('deploy/prometheus/alerts.test.yml'), 'utf8').matchAll(/alertname: (\w+)/g)].map((m) => m[1]));
  for (const [, name] of readFileSync(RULES, 'utf8').matchAll(/- alert: (\w+)/g)) assert.ok(tested.has(name), `${name} has a unit test in alerts.test.yml`);
});

test('every alert links a runbook that exists', () => {
  const text = readFileSync(RULES, 'utf8');
  const alerts = [...text.matchAll(/- alert: (\w+)/g)].length;
  const links = [...text.matchAll(/runbook_url: (\S+)/g)].map((m) => m[1]!);
  assert.ok(alerts > 10);
  assert.equal(links.length, alerts, 'one runbook_url per alert');
  for (const link of links) {
    assert.match(link, /^docs\/runbooks\/[a-z0-9-]+\.md$/);
    assert.ok(existsSync(root(link)), `${link} exists`);
  }
});

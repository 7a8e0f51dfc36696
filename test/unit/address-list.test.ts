import { test } from 'node:test';
import assert from 'node:assert/strict';
import { addressMatcher, isLoopback, parseAddressList } from '../../src/config/address-list.js';

test('address lists: addresses, CIDR ranges and named ranges, or what is wrong', () => {
  assert.deepEqual(parseAddressList(' 10.0.0.5 , fd00::/8,loopback'), { ok: true, ranges: ['10.0.0.5/32', 'fd00::/8', '127.0.0.0/8', '::1/128'] });
  for (const bad of ['', 'true', '10.0.0.0/33', '10.0.0/8', '::1/129', '10.0.0.1/8/1', 'example.com']) assert.equal(parseAddressList(bad).ok, false, bad);
});

test('address matching: IPv4, IPv6 and IPv4-mapped IPv6', () => {
  const list = parseAddressList('uniquelocal');
  assert.ok(list.ok);
  const inside = addressMatcher(list.ranges);
  for (const a of ['10.1.2.3', '172.31.0.1', '192.168.1.1', 'fd12::1', '::ffff:10.0.0.1']) assert.ok(inside(a), a);
  for (const a of ['8.8.8.8', '172.32.0.1', '2001:db8::1', '::ffff:8.8.8.8', 'not an address', '']) assert.ok(!inside(a), a);
  assert.ok(isLoopback('127.0.0.1') && isLoopback('::1') && isLoopback('::ffff:127.0.0.1'));
  assert.ok(!isLoopback('10.0.0.1'));
});

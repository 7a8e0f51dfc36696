// Lists of networks in options (`apiTrustProxy`, `metricsAllow`): comma-separated
// addresses, CIDR ranges and the names proxy-addr (Fastify's trustProxy) knows, so that
// one syntax means the same in every option. A list is checked when options load, and
// expanded to plain CIDR ranges that both Fastify and the matcher below understand.
import { BlockList, isIP } from 'node:net';

/** The named ranges, as proxy-addr defines them. */
export const NAMED_RANGES: Record<string, string[]> = {
  loopback: ['127.0.0.0/8', '::1/128'],
  linklocal: ['169.254.0.0/16', 'fe80::/10'],
  uniquelocal: ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', 'fc00::/7'],
};

export type AddressList = { ok: true; ranges: string[] } | { ok: false; problem: string };

function rangeOf(entry: string): string | null {
  const [address, prefix, extra] = entry.split('/');
  const family = isIP(address ?? '');
  if (!family || extra !== undefined) return null;
  if (prefix === undefined) return `${address}/${family === 4 ? 32 : 128}`;
  if (!/^\d{1,3}$/.test(prefix) || Number(prefix) > (family === 4 ? 32 : 128)) return null;
  return `${address}/${Number(prefix)}`;
}

/** `"loopback, 10.0.0.0/8"` → the CIDR ranges it names, or what is wrong with it. */
export function parseAddressList(text: string): AddressList {
  const entries = text.split(',').map((e) => e.trim()).filter(Boolean);
  if (entries.length === 0) return { ok: false, problem: 'no address given' };
  const ranges: string[] = [];
  for (const entry of entries) {
    const named = NAMED_RANGES[entry.toLowerCase()];
    const range = named ?? rangeOf(entry);
    if (!range) return { ok: false, problem: `"${entry}" is not an IP address, a CIDR range (10.0.0.0/8) or one of ${Object.keys(NAMED_RANGES).join(', ')}` };
    ranges.push(...(Array.isArray(range) ? range : [range]));
  }
  return { ok: true, ranges };
}

/** A test of a client address against CIDR ranges (IPv4-mapped IPv6 addresses count as IPv4). */
export function addressMatcher(ranges: readonly string[]): (address: string) => boolean {
  const list = new BlockList();
  for (const range of ranges) {
    const [address, prefix] = range.split('/') as [string, string];
    list.addSubnet(address, Number(prefix), isIP(address) === 4 ? 'ipv4' : 'ipv6');
  }
  return (address) => {
    const family = isIP(address);
    return family !== 0 && list.check(address, family === 4 ? 'ipv4' : 'ipv6');
  };
}

export const isLoopback = addressMatcher(NAMED_RANGES.loopback!);

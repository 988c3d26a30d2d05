import { BlockList, isIP } from 'node:net';
import type { IncomingMessage } from 'node:http';
import { ConfigPathError } from '../config/config-error.ts';

/** Builds a BlockList from CIDR or single-address strings; a bad entry is a ConfigPathError at its index. */
export function buildAddressList(entries: readonly string[], path: readonly (string | number)[]): BlockList {
  const list = new BlockList();
  entries.forEach((entry, i) => {
    const [address, prefixText, extra] = entry.trim().split('/');
    const family = isIP(address);
    if (family === 0 || extra !== undefined) {
      throw new ConfigPathError([...path, i], 'format', `"${entry}" is not an IP address or CIDR block`);
    }
    const type = family === 4 ? 'ipv4' : 'ipv6';
    if (prefixText === undefined) {
      list.addAddress(address, type);
      return;
    }
    const prefix = Number(prefixText);
    if (!/^\d+$/.test(prefixText) || prefix > (family === 4 ? 32 : 128)) {
      throw new ConfigPathError([...path, i], 'format', `"${entry}" has an invalid prefix length`);
    }
    list.addSubnet(address, prefix, type);
  });
  return list;
}

/** `::ffff:10.0.0.1` (IPv4 on a dual-stack socket) -> `10.0.0.1`, so IPv4 CIDRs match it. */
export function normalizeAddress(address: string): string {
  if (address.charCodeAt(0) !== 0x3a) return address; // not `::…`: nothing to unwrap (every IPv4 peer)
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  return mapped ? mapped[1] : address;
}

/** True when `address` is inside `list` (unknown or malformed addresses never are). */
export function addressIn(list: BlockList, address: string | undefined): boolean {
  if (!address) return false;
  const normalized = normalizeAddress(address);
  const family = isIP(normalized);
  if (family === 0) return false;
  return list.check(normalized, family === 4 ? 'ipv4' : 'ipv6');
}

/**
 * The caller's address: the socket peer, unless that peer is a trusted proxy, in which case
 * X-Forwarded-For is read from the right, skipping trusted proxies, and the first other address wins.
 * Reading from the right means a caller cannot forge its way in by prepending addresses.
 */
export function clientAddress(req: IncomingMessage, trustedProxies: BlockList | undefined): string | undefined {
  const peer = req.socket?.remoteAddress ? normalizeAddress(req.socket.remoteAddress) : undefined;
  if (!trustedProxies || !addressIn(trustedProxies, peer)) return peer;
  const header = req.headers['x-forwarded-for'];
  const hops = (Array.isArray(header) ? header.join(',') : (header ?? ''))
    .split(',')
    .map((h) => normalizeAddress(h.trim()))
    .filter((h) => h !== '');
  for (let i = hops.length - 1; i >= 0; i--) {
    if (isIP(hops[i]) === 0) return undefined; // garbage in the chain: do not guess
    if (!addressIn(trustedProxies, hops[i])) return hops[i];
  }
  return hops[0] ?? peer;
}

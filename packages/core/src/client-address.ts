// The address a request really comes from, for per-address limits and audit lines. Behind an
// ingress every connection comes from the ingress, so per-address limits would put every client
// in one bucket; the ingress names the client in X-Forwarded-For. That header is only believed
// from the proxies an operator lists (TRUSTED_PROXIES): anyone else could write any address in
// it and step around the limit. The chain is read from the right (the hop nearest to us), skipping
// trusted proxies, so a client cannot spoof its way past them either by prepending addresses.
import { BlockList, isIP } from 'node:net';
import type { IncomingHttpHeaders } from 'node:http';

/** Longest X-Forwarded-For read, and most hops walked: a header is attacker-controlled input. */
const MAX_HEADER_CHARS = 4_096;
const MAX_HOPS = 32;

/** "10.0.0.0/8", "fd00::/8", "192.168.1.7" (a single address) → its parts, or an error message. */
export function parseCidr(text: string): { address: string; prefix: number; family: 'ipv4' | 'ipv6' } | string {
  const [address = '', prefixText, ...rest] = text.trim().split('/');
  const version = isIP(address);
  if (version === 0 || rest.length > 0) return `${text}: not an IP address or CIDR range`;
  const max = version === 4 ? 32 : 128;
  const prefix = prefixText === undefined ? max : Number(prefixText);
  if (!Number.isInteger(prefix) || prefix < 0 || prefix > max || (prefixText !== undefined && !/^\d{1,3}$/.test(prefixText))) return `${text}: the prefix length must be 0-${max}`;
  return { address, prefix, family: version === 4 ? 'ipv4' : 'ipv6' };
}

/** "::ffff:10.1.2.3" (an IPv4 peer on a dual-stack socket) → "10.1.2.3". */
function plain(address: string): string {
  return address.startsWith('::ffff:') && isIP(address.slice(7)) === 4 ? address.slice(7) : address;
}

export class ClientAddresses {
  private readonly trusted = new BlockList();
  private readonly any: boolean;

  /** `ranges`: CIDR ranges (or single addresses) of the proxies in front; throws on a malformed one. */
  constructor(ranges: readonly string[]) {
    for (const range of ranges) {
      const parsed = parseCidr(range);
      if (typeof parsed === 'string') throw new Error(parsed);
      this.trusted.addSubnet(parsed.address, parsed.prefix, parsed.family);
    }
    this.any = ranges.length > 0;
  }

  private isTrusted(address: string): boolean {
    const version = isIP(address);
    return version !== 0 && this.trusted.check(address, version === 4 ? 'ipv4' : 'ipv6');
  }

  /**
   * The client's address: the peer's, unless the peer is a trusted proxy; then the nearest
   * address in X-Forwarded-For that is not a trusted proxy (or the farthest one, if all are).
   * A malformed entry stops the walk at the last good address: nothing past it is believed.
   */
  of(peer: string | undefined, headers: IncomingHttpHeaders): string {
    const direct = plain(peer ?? '');
    if (!this.any || !this.isTrusted(direct)) return direct || 'unknown';
    const raw = headers['x-forwarded-for'];
    const header = (Array.isArray(raw) ? raw.join(',') : (raw ?? '')).slice(-MAX_HEADER_CHARS);
    const hops = header.split(',').slice(-MAX_HOPS);
    let client = direct;
    for (let i = hops.length - 1; i >= 0; i -= 1) {
      const hop = plain(hops[i]!.trim());
      if (isIP(hop) === 0) break;
      client = hop;
      if (!this.isTrusted(hop)) break;
    }
    return client;
  }
}

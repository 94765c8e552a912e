import { ClientAddresses, parseCidr } from './client-address';

describe('parseCidr', () => {
  it.each([
    ['10.0.0.0/8', { address: '10.0.0.0', prefix: 8, family: 'ipv4' }],
    ['192.168.1.7', { address: '192.168.1.7', prefix: 32, family: 'ipv4' }],
    ['fd00::/8', { address: 'fd00::', prefix: 8, family: 'ipv6' }],
  ])('reads %s', (text, parsed) => {
    expect(parseCidr(text)).toEqual(parsed);
  });

  it.each(['10.0.0.0/33', 'fd00::/129', '10.0.0.0/-1', '10.0.0.0/8/1', 'ingress', '10.0.0.0/0x8', ''])('refuses %s', (text) => {
    expect(typeof parseCidr(text)).toBe('string');
  });
});

describe('ClientAddresses', () => {
  const behindIngress = new ClientAddresses(['10.0.0.0/8', 'fd00::/8']);
  const xff = (value: string | string[]) => ({ 'x-forwarded-for': value });

  it('is the peer when no proxy is trusted, whatever the header says', () => {
    expect(new ClientAddresses([]).of('10.1.2.3', xff('198.51.100.1'))).toBe('10.1.2.3');
    expect(new ClientAddresses([]).of(undefined, {})).toBe('unknown');
  });

  it('is the peer when the peer is not a trusted proxy', () => {
    expect(behindIngress.of('203.0.113.9', xff('198.51.100.1'))).toBe('203.0.113.9');
    expect(behindIngress.of('::ffff:203.0.113.9', xff('198.51.100.1'))).toBe('203.0.113.9');
  });

  it('is the nearest untrusted hop of X-Forwarded-For when the peer is a trusted proxy', () => {
    expect(behindIngress.of('10.0.0.5', xff('198.51.100.1'))).toBe('198.51.100.1');
    expect(behindIngress.of('::ffff:10.0.0.5', xff('198.51.100.1'))).toBe('198.51.100.1');
    // Two proxies of ours in a row: both skipped.
    expect(behindIngress.of('10.0.0.5', xff('198.51.100.1, 10.2.2.2'))).toBe('198.51.100.1');
    // What the client wrote in front of its own address is not believed.
    expect(behindIngress.of('10.0.0.5', xff('1.1.1.1, 198.51.100.1'))).toBe('198.51.100.1');
    // Several header lines are one list, in order.
    expect(behindIngress.of('fd00::1', xff(['1.1.1.1', '2001:db8::7, fd00::2']))).toBe('2001:db8::7');
  });

  it('stops at a malformed hop and keeps the last address it could trust', () => {
    expect(behindIngress.of('10.0.0.5', xff('198.51.100.1, garbage, 10.2.2.2'))).toBe('10.2.2.2');
    expect(behindIngress.of('10.0.0.5', xff(''))).toBe('10.0.0.5');
    expect(behindIngress.of('10.0.0.5', {})).toBe('10.0.0.5');
  });

  it('is the farthest hop when every hop is a trusted proxy', () => {
    expect(behindIngress.of('10.0.0.5', xff('10.3.3.3, 10.2.2.2'))).toBe('10.3.3.3');
  });

  it('reads a bounded part of a huge header', () => {
    const huge = `${Array.from({ length: 5_000 }, (_, i) => `10.0.${i % 250}.1`).join(', ')}, 198.51.100.1`;
    expect(behindIngress.of('10.0.0.5', xff(huge))).toBe('198.51.100.1');
    expect(behindIngress.of('10.0.0.5', xff(`198.51.100.1, ${'10.0.0.1, '.repeat(5_000)}10.0.0.2`))).toMatch(/^10\./);
  });

  it('refuses a malformed range at construction', () => {
    expect(() => new ClientAddresses(['10.0.0.0/40'])).toThrow('10.0.0.0/40');
  });
});

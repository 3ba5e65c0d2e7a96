import ipaddr from 'ipaddr.js';

type Address = ipaddr.IPv4 | ipaddr.IPv6;
type Range<T extends Address> = [T, number];

/**
 * The networks whose clients may reach the server (`allowed_networks`). Addresses are
 * compared as numbers, never as text, so `::ffff:192.168.1.5` (how a dual-stack socket
 * reports an IPv4 client) matches `192.168.1.0/24`, and `fe80::1%eth0` matches `fe80::/10`.
 */
export class NetworkAllowlist {
  private readonly v4: Range<ipaddr.IPv4>[] = [];
  private readonly v6: Range<ipaddr.IPv6>[] = [];

  /** `networks` are validated already (options schema); a bad one still throws here. */
  constructor(networks: readonly string[]) {
    for (const text of networks) {
      const range = parseRange(text.trim());
      if (range[0].kind() === 'ipv4') {
        this.v4.push(range as Range<ipaddr.IPv4>);
        continue;
      }
      const [address, bits] = range as Range<ipaddr.IPv6>;
      // `::ffff:192.168.0.0/112` means IPv4 clients; they arrive here as IPv4 (see allows).
      if (address.isIPv4MappedAddress() && bits >= 96) this.v4.push([address.toIPv4Address(), bits - 96]);
      else this.v6.push([address, bits]);
    }
  }

  /** Whether a client at `address` (a socket's remoteAddress) may reach the server. */
  allows(address: string | undefined): boolean {
    if (address === undefined || !ipaddr.isValid(address)) return false;
    // process() turns an IPv4-mapped IPv6 address into the IPv4 address it carries.
    const client = ipaddr.process(address);
    if (client.kind() === 'ipv4') return this.v4.some((range) => (client as ipaddr.IPv4).match(range));
    return this.v6.some((range) => (client as ipaddr.IPv6).match(range));
  }
}

function parseRange(text: string): Range<Address> {
  if (text.includes('/')) return ipaddr.parseCIDR(text);
  const address = ipaddr.parse(text);
  return [address, address.kind() === 'ipv4' ? 32 : 128];
}

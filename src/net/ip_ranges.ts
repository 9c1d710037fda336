/**
 * Which addresses a webhook may not reach, and why. The table follows the
 * IANA IPv4 and IPv6 Special-Purpose Address Registries: anything that is not
 * globally reachable unicast is blocked, each range with a reason an operator
 * can act on.
 *
 * IPv6 forms that carry an IPv4 address (IPv4-mapped, IPv4-compatible,
 * IPv4-translated, NAT64 `64:ff9b::/96`, 6to4 `2002::/16`) are judged by the
 * IPv4 address inside them: `::ffff:127.0.0.1` reaches the loopback interface
 * on a dual-stack host, and `64:ff9b::a00:1` reaches 10.0.0.1 through a NAT64
 * gateway, so the IPv6 wrapper must not launder a blocked IPv4 address.
 *
 * @module
 */

import { type Cidr, cidrContains, formatIp, type IpAddress, parseCidr } from "./ip.ts";

/** Why an address is refused. */
export type BlockReason =
  /** 0.0.0.0/8, `::`: Linux connects "this host" for these. */
  | "unspecified"
  /** 127.0.0.0/8, `::1`. */
  | "loopback"
  /** RFC 1918: 10/8, 172.16/12, 192.168/16; local-use NAT64 64:ff9b:1::/48. */
  | "private"
  /** 100.64.0.0/10, carrier-grade NAT (RFC 6598). */
  | "shared"
  /** 169.254.0.0/16 (incl. cloud metadata 169.254.169.254), fe80::/10. */
  | "link-local"
  /** fc00::/7 (RFC 4193). */
  | "unique-local"
  /** 192.0.2/24, 198.51.100/24, 203.0.113/24, 2001:db8::/32, 3fff::/20. */
  | "documentation"
  /** 198.18.0.0/15, 2001:2::/48. */
  | "benchmarking"
  /** 192.0.0.0/24, 2001::/23 (incl. Teredo): IETF protocol assignments. */
  | "protocol"
  /** 192.88.99.0/24, the deprecated 6to4 relay anycast. */
  | "relay"
  /** 100::/64, discard-only (RFC 6666). */
  | "discard"
  /** 224.0.0.0/4, ff00::/8. */
  | "multicast"
  /** 255.255.255.255. */
  | "broadcast"
  /** 240.0.0.0/4, and IPv6 outside global unicast 2000::/3. */
  | "reserved";

/** The verdict on one address. */
export type Classification =
  | { readonly blocked: false }
  | {
    readonly blocked: true;
    readonly reason: BlockReason;
    /** The matching range, e.g. `127.0.0.0/8`. */
    readonly range: string;
    /** Extra detail, e.g. `cloud metadata service` or `IPv4-mapped 127.0.0.1`. */
    readonly note?: string;
  };

interface BlockedRange {
  readonly cidr: Cidr;
  readonly text: string;
  readonly reason: BlockReason;
  readonly note?: string;
}

function range(text: string, reason: BlockReason, note?: string): BlockedRange {
  return note === undefined
    ? { cidr: parseCidr(text), text, reason }
    : { cidr: parseCidr(text), text, reason, note };
}

/** Blocked IPv4 ranges, most specific first (the first match names the reason). */
export const BLOCKED_IPV4: readonly BlockedRange[] = [
  range("169.254.169.254/32", "link-local", "cloud metadata service"),
  range("255.255.255.255/32", "broadcast"),
  range("0.0.0.0/8", "unspecified"),
  range("10.0.0.0/8", "private"),
  range("100.64.0.0/10", "shared"),
  range("127.0.0.0/8", "loopback"),
  range("169.254.0.0/16", "link-local"),
  range("172.16.0.0/12", "private"),
  range("192.0.0.0/24", "protocol"),
  range("192.0.2.0/24", "documentation"),
  range("192.88.99.0/24", "relay"),
  range("192.168.0.0/16", "private"),
  range("198.18.0.0/15", "benchmarking"),
  range("198.51.100.0/24", "documentation"),
  range("203.0.113.0/24", "documentation"),
  range("224.0.0.0/4", "multicast"),
  range("240.0.0.0/4", "reserved"),
];

/** Blocked IPv6 ranges that carry no IPv4 address, most specific first. */
export const BLOCKED_IPV6: readonly BlockedRange[] = [
  range("::/128", "unspecified"),
  range("::1/128", "loopback"),
  range("64:ff9b:1::/48", "private", "local-use NAT64"),
  range("100::/64", "discard"),
  range("2001:2::/48", "benchmarking"),
  range("2001::/32", "protocol", "Teredo"),
  range("2001::/23", "protocol"),
  range("2001:db8::/32", "documentation"),
  range("3fff::/20", "documentation"),
  range("fc00::/7", "unique-local"),
  range("fe80::/10", "link-local"),
  // fec0::/10, deprecated site-local, falls under "not 2000::/3" below.
  range("ff00::/8", "multicast"),
];

const GLOBAL_UNICAST_V6 = parseCidr("2000::/3");

/** IPv6 forms that embed an IPv4 address, and where it sits. */
const EMBEDDINGS: readonly {
  readonly cidr: Cidr;
  readonly text: string;
  readonly name: string;
  /** Bits to shift right to bring the IPv4 address to the low 32 bits. */
  readonly shift: bigint;
  /** Whether the wrapper is itself deliverable when the IPv4 inside is public. */
  readonly globalWhenPublic: boolean;
}[] = [
  { text: "::ffff:0:0/96", name: "IPv4-mapped", shift: 0n, globalWhenPublic: true },
  { text: "::ffff:0:0:0/96", name: "IPv4-translated", shift: 0n, globalWhenPublic: false },
  // After ::/128 and ::1/128 have been handled.
  { text: "::/96", name: "IPv4-compatible", shift: 0n, globalWhenPublic: false },
  { text: "64:ff9b::/96", name: "NAT64", shift: 0n, globalWhenPublic: true },
  { text: "2002::/16", name: "6to4", shift: 80n, globalWhenPublic: true },
].map((e) => ({ ...e, cidr: parseCidr(e.text) }));

/** The IPv4 address an IPv6 address carries, with the form's name, if it is such a form. */
export function embeddedIpv4(
  address: IpAddress,
): { readonly address: IpAddress; readonly form: string; readonly range: string } | undefined {
  if (address.family !== 6 || address.value <= 1n) return undefined;
  for (const e of EMBEDDINGS) {
    if (!cidrContains(e.cidr, address)) continue;
    const v4: IpAddress = { family: 4, value: (address.value >> e.shift) & 0xffff_ffffn };
    return { address: v4, form: e.name, range: e.text };
  }
  return undefined;
}

function blocked(r: { reason: BlockReason; text: string; note?: string }): Classification {
  return r.note === undefined
    ? { blocked: true, reason: r.reason, range: r.text }
    : { blocked: true, reason: r.reason, range: r.text, note: r.note };
}

function match(table: readonly BlockedRange[], address: IpAddress): Classification | undefined {
  for (const r of table) if (cidrContains(r.cidr, address)) return blocked(r);
  return undefined;
}

/**
 * Whether `address` is a globally reachable unicast address, or else the
 * reason it is blocked. Policy exceptions (`allow_private_targets`, an
 * allowlist) are applied by the guard, not here.
 */
export function classifyAddress(address: IpAddress): Classification {
  if (address.family === 4) return match(BLOCKED_IPV4, address) ?? { blocked: false };
  const direct = match(BLOCKED_IPV6.slice(0, 2), address);
  if (direct) return direct;
  const embedded = embeddedIpv4(address);
  if (embedded) {
    const inner = classifyAddress(embedded.address);
    const via = `${embedded.form} ${formatIp(embedded.address)}`;
    if (inner.blocked) {
      return {
        blocked: true,
        reason: inner.reason,
        range: `${embedded.range} (${inner.range})`,
        note: inner.note === undefined ? via : `${via}, ${inner.note}`,
      };
    }
    const form = EMBEDDINGS.find((e) => e.text === embedded.range);
    if (form?.globalWhenPublic) return { blocked: false };
    return { blocked: true, reason: "reserved", range: embedded.range, note: via };
  }
  const listed = match(BLOCKED_IPV6, address);
  if (listed) return listed;
  if (!cidrContains(GLOBAL_UNICAST_V6, address)) {
    return { blocked: true, reason: "reserved", range: "outside 2000::/3" };
  }
  return { blocked: false };
}

const PHRASES: Readonly<Record<BlockReason, string>> = {
  unspecified: "an unspecified address",
  loopback: "a loopback address",
  private: "a private address",
  shared: "a shared (carrier-grade NAT) address",
  "link-local": "a link-local address",
  "unique-local": "a unique local address",
  documentation: "a documentation address",
  benchmarking: "a benchmarking address",
  protocol: "an IETF protocol address",
  relay: "a 6to4 relay anycast address",
  discard: "a discard-only address",
  multicast: "a multicast address",
  broadcast: "the broadcast address",
  reserved: "a reserved address",
};

/** "a loopback address", "a link-local address (cloud metadata service)", … */
export function describeReason(reason: BlockReason, note?: string): string {
  const phrase = PHRASES[reason];
  return note === undefined ? phrase : `${phrase} (${note})`;
}

/**
 * IP addresses as the SSRF guard sees them: parsed from every textual form a
 * URL host or a resolver may carry, held as a family and a 32- or 128-bit
 * integer, and compared against CIDR ranges.
 *
 * WHATWG `new URL()` already canonicalises IPv4 hosts (`http://2130706433/`,
 * `http://0x7f.1/`, `http://0177.0.0.1/`, `http://127.0.0.1./` all give the
 * hostname `127.0.0.1`) and IPv6 hosts (`[0:0:0:0:0:0:0:1]` gives `[::1]`,
 * `[::ffff:127.0.0.1]` gives `[::ffff:7f00:1]`). This parser accepts the same
 * legacy IPv4 forms anyway, because its input is not only URL hostnames:
 * resolver answers, allowlist entries and hosts from other code paths must
 * not slip through on a spelling the URL parser would have normalised.
 *
 * @module
 */

/** An IPv4 or IPv6 address; `value` is the address as an unsigned integer. */
export interface IpAddress {
  readonly family: 4 | 6;
  readonly value: bigint;
}

/** A CIDR range: the network address (host bits zero) and the prefix length. */
export interface Cidr {
  readonly family: 4 | 6;
  readonly network: bigint;
  readonly prefix: number;
}

const V4_MAX = (1n << 32n) - 1n;
const V6_BITS = 128n;

/**
 * One IPv4 part in the WHATWG "IPv4 number" syntax: decimal, `0x` hex or
 * leading-zero octal. Undefined when it is not a number in any of them.
 */
function parseV4Number(part: string): bigint | undefined {
  if (/^0x/i.test(part)) {
    const digits = part.slice(2);
    // "0x" alone is zero in WHATWG.
    if (digits === "") return 0n;
    return /^[0-9a-f]+$/i.test(digits) ? BigInt(`0x${digits}`) : undefined;
  }
  if (/^0[0-7]+$/.test(part)) return BigInt(`0o${part.slice(1)}`);
  return /^(?:0|[1-9][0-9]*)$/.test(part) ? BigInt(part) : undefined;
}

/**
 * Parses an IPv4 address in any form a browser accepts in a URL host:
 * 1 to 4 dot-separated parts, each decimal, hex (`0x7f`) or octal (`0177`),
 * the last part filling the remaining bytes (`127.1`, `2130706433`), and an
 * optional trailing dot. Undefined when `text` is not such an address.
 */
export function parseIpv4(text: string): IpAddress | undefined {
  let s = text;
  if (s.endsWith(".")) s = s.slice(0, -1);
  const parts = s.split(".");
  if (parts.length < 1 || parts.length > 4) return undefined;
  const numbers: bigint[] = [];
  for (const part of parts) {
    const n = parseV4Number(part);
    if (n === undefined) return undefined;
    numbers.push(n);
  }
  const last = numbers.pop()!;
  let value = 0n;
  for (const n of numbers) {
    if (n > 255n) return undefined;
    value = (value << 8n) | n;
  }
  const lastBits = BigInt(8 * (4 - numbers.length));
  if (last >= 1n << lastBits) return undefined;
  value = (value << lastBits) | last;
  return { family: 4, value };
}

/** Strict dotted-quad IPv4 (`a.b.c.d`, decimal, no leading zeros), as IPv6 text embeds it. */
function parseDottedQuad(text: string): bigint | undefined {
  const parts = text.split(".");
  if (parts.length !== 4) return undefined;
  let value = 0n;
  for (const part of parts) {
    if (!/^(?:0|[1-9][0-9]{0,2})$/.test(part)) return undefined;
    const n = BigInt(part);
    if (n > 255n) return undefined;
    value = (value << 8n) | n;
  }
  return value;
}

/** Parses up to 8 colon-separated hex groups, the last one or two may be a dotted quad. */
function parseGroups(text: string): bigint[] | undefined {
  if (text === "") return [];
  const parts = text.split(":");
  const groups: bigint[] = [];
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i]!;
    if (i === parts.length - 1 && part.includes(".")) {
      const v4 = parseDottedQuad(part);
      if (v4 === undefined) return undefined;
      groups.push(v4 >> 16n, v4 & 0xffffn);
      continue;
    }
    if (!/^[0-9a-f]{1,4}$/i.test(part)) return undefined;
    groups.push(BigInt(`0x${part}`));
  }
  return groups;
}

/**
 * Parses an IPv6 address, with or without brackets, including `::`
 * compression and a trailing dotted quad (`::ffff:127.0.0.1`). A zone
 * (`fe80::1%eth0`, as a resolver may return) is ignored: the guard judges the
 * address, and the zone never makes a link-local address global.
 */
export function parseIpv6(text: string): IpAddress | undefined {
  let s = text;
  if (s.startsWith("[") && s.endsWith("]")) s = s.slice(1, -1);
  const zone = s.indexOf("%");
  if (zone >= 0) s = s.slice(0, zone);
  if (!s.includes(":")) return undefined;
  const halves = s.split("::");
  if (halves.length > 2) return undefined;
  let groups: bigint[];
  if (halves.length === 2) {
    const head = parseGroups(halves[0]!);
    const tail = parseGroups(halves[1]!);
    if (head === undefined || tail === undefined) return undefined;
    const missing = 8 - head.length - tail.length;
    // "::" stands for at least one zero group.
    if (missing < 1) return undefined;
    groups = [...head, ...new Array<bigint>(missing).fill(0n), ...tail];
  } else {
    const all = parseGroups(s);
    if (all === undefined) return undefined;
    groups = all;
  }
  if (groups.length !== 8) return undefined;
  let value = 0n;
  for (const g of groups) value = (value << 16n) | g;
  return { family: 6, value };
}

/**
 * Parses an IP address as a URL hostname or a resolver may give it: IPv6
 * with or without brackets, or IPv4 in any legacy form (see
 * {@linkcode parseIpv4}). Undefined for a name or anything malformed.
 */
export function parseIp(text: string): IpAddress | undefined {
  const s = text.trim();
  if (s.startsWith("[") || s.includes(":")) return parseIpv6(s);
  return parseIpv4(s);
}

/** Canonical text: dotted quad, or RFC 5952 IPv6 (lowercase, longest zero run as `::`). */
export function formatIp(address: IpAddress): string {
  if (address.family === 4) {
    const v = address.value;
    return [24n, 16n, 8n, 0n].map((shift) => String((v >> shift) & 0xffn)).join(".");
  }
  const groups: number[] = [];
  for (let i = 7; i >= 0; i--) groups.push(Number((address.value >> BigInt(16 * i)) & 0xffffn));
  let bestStart = -1;
  let bestLength = 0;
  for (let i = 0; i < 8;) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLength) {
      bestStart = i;
      bestLength = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestLength < 2) return hex.join(":");
  const head = hex.slice(0, bestStart).join(":");
  const tail = hex.slice(bestStart + bestLength).join(":");
  return `${head}::${tail}`;
}

/** The address as a URL host: IPv6 in brackets. */
export function formatHost(address: IpAddress): string {
  return address.family === 6 ? `[${formatIp(address)}]` : formatIp(address);
}

function bits(family: 4 | 6): bigint {
  return family === 4 ? 32n : V6_BITS;
}

/**
 * Parses `addr/prefix` (or a bare address, a single-address range). The
 * address part must be a plain dotted quad or IPv6 text, and host bits must be
 * zero, so a typo such as `10.0.0.1/8` is reported rather than silently widened.
 */
export function parseCidr(text: string): Cidr {
  const slash = text.indexOf("/");
  const addrText = slash < 0 ? text : text.slice(0, slash);
  const address = addrText.includes(":")
    ? parseIpv6(addrText)
    : parseDottedQuad(addrText) === undefined
    ? undefined
    : parseIpv4(addrText);
  if (address === undefined || addrText.includes("%")) {
    throw new TypeError(`Cannot parse CIDR: expected an IP address, got ${JSON.stringify(text)}`);
  }
  const width = bits(address.family);
  let prefix = Number(width);
  if (slash >= 0) {
    const p = text.slice(slash + 1);
    if (!/^(?:0|[1-9][0-9]{0,2})$/.test(p) || Number(p) > Number(width)) {
      throw new TypeError(
        `Cannot parse CIDR: prefix must be 0-${width}, got ${JSON.stringify(text)}`,
      );
    }
    prefix = Number(p);
  }
  const hostMask = (1n << (width - BigInt(prefix))) - 1n;
  if ((address.value & hostMask) !== 0n) {
    throw new TypeError(
      `Cannot parse CIDR: host bits must be zero, got ${JSON.stringify(text)}`,
    );
  }
  return { family: address.family, network: address.value, prefix };
}

/** Whether `address` lies in `cidr` (never across families). */
export function cidrContains(cidr: Cidr, address: IpAddress): boolean {
  if (cidr.family !== address.family) return false;
  const shift = bits(cidr.family) - BigInt(cidr.prefix);
  return (address.value >> shift) === (cidr.network >> shift);
}

/** Canonical `network/prefix` text. */
export function formatCidr(cidr: Cidr): string {
  return `${formatIp({ family: cidr.family, value: cidr.network })}/${cidr.prefix}`;
}

/** An IPv4 address from its 32-bit value. */
export function ipv4(value: bigint): IpAddress {
  if (value < 0n || value > V4_MAX) throw new RangeError(`Not an IPv4 value: ${value}`);
  return { family: 4, value };
}

/**
 * The SSRF guard: which addresses a delivery may reach. Deliveries connect to
 * exactly the address it checked (see `net/http1_route.ts`).
 *
 * @module
 */

export {
  type Cidr,
  cidrContains,
  formatCidr,
  formatHost,
  formatIp,
  type IpAddress,
  parseCidr,
  parseIp,
  parseIpv4,
  parseIpv6,
} from "./ip.ts";
export {
  type BlockReason,
  type Classification,
  classifyAddress,
  describeReason,
  embeddedIpv4,
} from "./ranges.ts";
export { type Resolver, systemResolver } from "./resolver.ts";
export { type GuardResult, TargetGuard, type TargetGuardOptions } from "./guard.ts";

/**
 * The SSRF guard: which addresses a delivery may reach, and clients pinned to
 * the address that was checked.
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
export { clearNoProxyEnv, createProxiedClient, noProxyProblem, PinningError } from "./pin.ts";
export {
  type Destination,
  type Entrance,
  PIN_FAILURE_HEADER,
  PinProxy,
  type PinProxyOptions,
} from "./pin_proxy.ts";
export {
  PinnedClients,
  type PinnedClientsOptions,
  type PinnedLease,
  type PinnedTls,
} from "./pinned_clients.ts";

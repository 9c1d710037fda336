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
export {
  clearNoProxyEnv,
  createProxiedClient,
  noProxyProblem,
  pinnedClient,
  PinningError,
} from "./pin.ts";
export {
  ConnectProxy,
  type ConnectProxyOptions,
  type PinnedTunnelClient,
  type ProxyApproval,
} from "./connect_proxy.ts";
export {
  type Approved,
  type PinnedTarget,
  pinTarget,
  type PinTargetOptions,
} from "./pin_target.ts";

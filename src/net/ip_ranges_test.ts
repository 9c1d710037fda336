import assert from "node:assert/strict";
import { formatIp, parseIp } from "./ip.ts";
import { type BlockReason, classifyAddress, describeReason, embeddedIpv4 } from "./ip_ranges.ts";

function classify(text: string) {
  const ip = parseIp(text);
  assert.ok(ip, `parses: ${text}`);
  return classifyAddress(ip);
}

Deno.test("classifyAddress blocks every special-purpose range with its reason", () => {
  const table: [string, BlockReason][] = [
    ["0.0.0.0", "unspecified"],
    ["0.1.2.3", "unspecified"],
    ["10.0.0.1", "private"],
    ["10.255.255.255", "private"],
    ["100.64.0.1", "shared"],
    ["100.127.255.255", "shared"],
    ["127.0.0.1", "loopback"],
    ["127.255.255.254", "loopback"],
    ["169.254.0.1", "link-local"],
    ["169.254.169.254", "link-local"],
    ["172.16.0.1", "private"],
    ["172.31.255.255", "private"],
    ["192.0.0.8", "protocol"],
    ["192.0.2.1", "documentation"],
    ["192.88.99.1", "relay"],
    ["192.168.1.1", "private"],
    ["198.18.0.1", "benchmarking"],
    ["198.19.255.255", "benchmarking"],
    ["198.51.100.7", "documentation"],
    ["203.0.113.9", "documentation"],
    ["224.0.0.1", "multicast"],
    ["239.255.255.250", "multicast"],
    ["240.0.0.1", "reserved"],
    ["255.255.255.254", "reserved"],
    ["255.255.255.255", "broadcast"],
    ["::", "unspecified"],
    ["::1", "loopback"],
    ["::ffff:127.0.0.1", "loopback"],
    ["::ffff:10.0.0.1", "private"],
    ["::ffff:0.0.0.0", "unspecified"],
    ["::ffff:0:127.0.0.1", "loopback"],
    ["::127.0.0.1", "loopback"],
    ["::8.8.8.8", "reserved"],
    ["64:ff9b::127.0.0.1", "loopback"],
    ["64:ff9b::169.254.169.254", "link-local"],
    ["64:ff9b:1::1", "private"],
    ["100::1", "discard"],
    ["2001::1", "protocol"],
    ["2001:2::1", "benchmarking"],
    ["2001:db8::1", "documentation"],
    ["2002:7f00:1::", "loopback"],
    ["2002:a00:1::1", "private"],
    ["2002:a9fe:a9fe::", "link-local"],
    ["3fff::1", "documentation"],
    ["fc00::1", "unique-local"],
    ["fd00:ec2::254", "unique-local"],
    ["fe80::1", "link-local"],
    ["febf::1", "link-local"],
    ["fec0::1", "reserved"],
    ["ff02::1", "multicast"],
    ["5f00::1", "reserved"],
    ["4000::1", "reserved"],
  ];
  for (const [input, reason] of table) {
    const c = classify(input);
    assert.ok(c.blocked, `${input} is blocked`);
    assert.equal(c.reason, reason, input);
  }
});

Deno.test("classifyAddress allows global unicast, including public IPv4 inside IPv6 forms", () => {
  for (
    const input of [
      "93.184.216.34",
      "8.8.8.8",
      "1.1.1.1",
      "100.63.255.255",
      "100.128.0.0",
      "172.15.255.255",
      "172.32.0.0",
      "169.253.255.255",
      "192.0.1.255",
      "198.17.255.255",
      "223.255.255.255",
      "2606:4700:4700::1111",
      "2a00:1450:4001::200e",
      "::ffff:93.184.216.34",
      "64:ff9b::8.8.8.8",
      "2002:5db8:d822::1",
    ]
  ) {
    assert.deepEqual(classify(input), { blocked: false }, input);
  }
});

Deno.test("classifyAddress names the cloud metadata address and embedded IPv4", () => {
  assert.deepEqual(classify("169.254.169.254"), {
    blocked: true,
    reason: "link-local",
    range: "169.254.169.254/32",
    note: "cloud metadata service",
  });
  assert.deepEqual(classify("::ffff:127.0.0.1"), {
    blocked: true,
    reason: "loopback",
    range: "::ffff:0:0/96 (127.0.0.0/8)",
    note: "IPv4-mapped 127.0.0.1",
  });
  const sixToFour = classify("2002:a9fe:a9fe::1");
  assert.ok(sixToFour.blocked);
  assert.equal(sixToFour.note, "6to4 169.254.169.254, cloud metadata service");
});

Deno.test("embeddedIpv4 extracts the IPv4 address of each wrapping form", () => {
  const table: [string, string, string][] = [
    ["::ffff:7f00:1", "IPv4-mapped", "127.0.0.1"],
    ["::ffff:0:a00:1", "IPv4-translated", "10.0.0.1"],
    ["::a00:1", "IPv4-compatible", "10.0.0.1"],
    ["64:ff9b::a9fe:a9fe", "NAT64", "169.254.169.254"],
    ["2002:a00:1:1234::1", "6to4", "10.0.0.1"],
  ];
  for (const [input, form, v4] of table) {
    const e = embeddedIpv4(parseIp(input)!);
    assert.ok(e, input);
    assert.equal(e.form, form, input);
    assert.equal(formatIp(e.address), v4, input);
  }
  assert.equal(embeddedIpv4(parseIp("::")!), undefined);
  assert.equal(embeddedIpv4(parseIp("::1")!), undefined);
  assert.equal(embeddedIpv4(parseIp("2606:4700::1")!), undefined);
  assert.equal(embeddedIpv4(parseIp("127.0.0.1")!), undefined);
});

Deno.test("describeReason reads as a phrase", () => {
  assert.equal(describeReason("loopback"), "a loopback address");
  assert.equal(
    describeReason("link-local", "cloud metadata service"),
    "a link-local address (cloud metadata service)",
  );
});

import assert from "node:assert/strict";
import {
  cidrContains,
  formatCidr,
  formatHost,
  formatIp,
  parseCidr,
  parseIp,
  parseIpv4,
  parseIpv6,
} from "./ip.ts";

function canonical(text: string): string | undefined {
  const ip = parseIp(text);
  return ip === undefined ? undefined : formatIp(ip);
}

Deno.test("parseIpv4 accepts every legacy form a URL host may use", () => {
  const table: [string, string][] = [
    ["127.0.0.1", "127.0.0.1"],
    ["2130706433", "127.0.0.1"],
    ["0x7f000001", "127.0.0.1"],
    ["0X7F000001", "127.0.0.1"],
    ["0x7f.0.0.1", "127.0.0.1"],
    ["0x7F.0x0.0x0.0x1", "127.0.0.1"],
    ["0177.0.0.1", "127.0.0.1"],
    ["017700000001", "127.0.0.1"],
    ["127.1", "127.0.0.1"],
    ["127.0.1", "127.0.0.1"],
    ["0x7f.1", "127.0.0.1"],
    ["0177.0x0.1", "127.0.0.1"],
    ["127.0.0.1.", "127.0.0.1"],
    ["0", "0.0.0.0"],
    ["0x", "0.0.0.0"],
    ["10.0.0.1", "10.0.0.1"],
    ["167772161", "10.0.0.1"],
    ["169.254.43518", "169.254.169.254"],
    ["0xa9fea9fe", "169.254.169.254"],
    ["4294967295", "255.255.255.255"],
    ["00", "0.0.0.0"],
  ];
  for (const [input, expected] of table) {
    const ip = parseIpv4(input);
    assert.ok(ip, input);
    assert.equal(formatIp(ip), expected, input);
  }
});

Deno.test("parseIpv4 rejects names and out-of-range numbers", () => {
  for (
    const input of [
      "",
      "example.com",
      "127.0.0.1.nip.io",
      "1.2.3.4.5",
      "256.1.1.1",
      "4294967296",
      "0x100000000",
      "127.16777216",
      "08.0.0.1",
      "0x7g.0.0.1",
      "1..1",
      "-1",
      " 1",
    ]
  ) {
    assert.equal(parseIpv4(input), undefined, input);
  }
});

Deno.test("parseIpv6 handles compression, brackets, embedded IPv4 and zones", () => {
  const table: [string, string][] = [
    ["::1", "::1"],
    ["[::1]", "::1"],
    ["0:0:0:0:0:0:0:1", "::1"],
    ["::", "::"],
    ["[::]", "::"],
    ["::ffff:127.0.0.1", "::ffff:7f00:1"],
    ["::ffff:7f00:1", "::ffff:7f00:1"],
    ["::127.0.0.1", "::7f00:1"],
    ["64:ff9b::10.0.0.1", "64:ff9b::a00:1"],
    ["2002:7f00:1::", "2002:7f00:1::"],
    ["FE80::1%eth0", "fe80::1"],
    ["2001:DB8:0:0:1:0:0:1", "2001:db8::1:0:0:1"],
    ["2001:db8:0:0:0:0:2:1", "2001:db8::2:1"],
    ["1:0:0:2:0:0:0:3", "1:0:0:2::3"],
    ["1:2:3:4:5:6:7::", "1:2:3:4:5:6:7:0"],
  ];
  for (const [input, expected] of table) {
    const ip = parseIpv6(input);
    assert.ok(ip, input);
    assert.equal(formatIp(ip), expected, input);
  }
  for (
    const input of [
      "1::2::3",
      "1:2:3:4:5:6:7:8:9",
      "1:2:3:4:5:6:7:8::",
      ":::",
      "12345::",
      "::ffff:127.0.0.01",
      "::ffff:1.2.3",
      "g::1",
      "1:2:3:4:5:6:7",
    ]
  ) {
    assert.equal(parseIpv6(input), undefined, input);
  }
});

Deno.test("parseIp dispatches on the form; formatHost brackets IPv6", () => {
  assert.equal(canonical("[::1]"), "::1");
  assert.equal(canonical("0x7f.1"), "127.0.0.1");
  assert.equal(canonical("localhost"), undefined);
  assert.equal(formatHost(parseIp("::1")!), "[::1]");
  assert.equal(formatHost(parseIp("127.0.0.1")!), "127.0.0.1");
});

Deno.test("new URL() already canonicalises IPv4 and IPv6 hosts; parseIp agrees with it", () => {
  const table: [string, string][] = [
    ["http://2130706433/", "127.0.0.1"],
    ["http://0x7f000001/", "127.0.0.1"],
    ["http://0x7f.0.0.1/", "127.0.0.1"],
    ["http://0177.0.0.1/", "127.0.0.1"],
    ["http://017700000001/", "127.0.0.1"],
    ["http://127.1/", "127.0.0.1"],
    ["http://127.0.1/", "127.0.0.1"],
    ["http://127.0.0.1./", "127.0.0.1"],
    ["http://0X7F.1/", "127.0.0.1"],
    ["http://%31%32%37.0.0.1/", "127.0.0.1"],
    ["http://0/", "0.0.0.0"],
    ["http://[0:0:0:0:0:0:0:1]/", "[::1]"],
    ["http://[::ffff:127.0.0.1]/", "[::ffff:7f00:1]"],
    ["http://[::127.0.0.1]/", "[::7f00:1]"],
    ["http://[64:ff9b::127.0.0.1]/", "[64:ff9b::7f00:1]"],
    // Names stay names: the guard resolves them.
    ["http://127.0.0.1.nip.io/", "127.0.0.1.nip.io"],
    ["http://LOCALHOST/", "localhost"],
  ];
  for (const [input, hostname] of table) {
    const url = new URL(input);
    assert.equal(url.hostname, hostname, input);
    const ip = parseIp(url.hostname);
    if (ip) assert.equal(formatHost(ip), hostname, input);
  }
  // URL rejects what cannot be an address rather than treating it as a name.
  for (const input of ["http://1.2.3.4.5/", "http://256.1.1.1/", "http://0x100000000/"]) {
    assert.throws(() => new URL(input), TypeError, input);
  }
  assert.throws(() => new URL("http://[fe80::1%25eth0]/"), TypeError);
});

Deno.test("parseCidr and cidrContains", () => {
  const ten = parseCidr("10.0.0.0/8");
  assert.equal(formatCidr(ten), "10.0.0.0/8");
  assert.ok(cidrContains(ten, parseIp("10.255.1.2")!));
  assert.ok(!cidrContains(ten, parseIp("11.0.0.0")!));
  assert.ok(!cidrContains(ten, parseIp("::ffff:10.0.0.1")!), "families never mix");
  assert.ok(cidrContains(parseCidr("0.0.0.0/0"), parseIp("8.8.8.8")!));
  assert.ok(cidrContains(parseCidr("fc00::/7"), parseIp("fd12::1")!));
  assert.ok(!cidrContains(parseCidr("fc00::/7"), parseIp("fe00::1")!));
  assert.equal(formatCidr(parseCidr("192.0.2.7")), "192.0.2.7/32");
  assert.equal(formatCidr(parseCidr("2001:DB8::/32")), "2001:db8::/32");
  for (const bad of ["10.0.0.1/8", "10.0.0.0/33", "10/8", "::/129", "x/1", "10.0.0.0/08", ""]) {
    assert.throws(() => parseCidr(bad), TypeError, bad);
  }
});

import assert from "node:assert/strict";
import { parseRetryAfter } from "./outcome.ts";

const NOW = Date.UTC(2026, 0, 22, 6, 40, 0); // Thu, 22 Jan 2026 06:40:00 GMT

Deno.test("parseRetryAfter reads delay-seconds and HTTP-dates, ignoring garbage", () => {
  const cases: [string | null, number | undefined][] = [
    [null, undefined],
    ["", undefined],
    ["   ", undefined],
    ["0", 0],
    ["120", 120_000],
    [" 5 ", 5_000],
    ["007", 7_000],
    ["-5", undefined],
    ["1.5", undefined],
    ["5s", undefined],
    ["soon", undefined],
    ["1e3", undefined],
    ["9".repeat(400), Number.MAX_SAFE_INTEGER],
    // IMF-fixdate, 90 s ahead and in the past (clamped to 0).
    ["Thu, 22 Jan 2026 06:41:30 GMT", 90_000],
    ["Thu, 22 Jan 2026 06:39:00 GMT", 0],
    ["Sun, 06 Nov 1994 08:49:37 GMT", 0],
    ["thu, 22 jan 2026 06:41:30 gmt", 90_000],
    // Obsolete RFC 850 and asctime forms.
    ["Thursday, 22-Jan-26 07:40:00 GMT", 3_600_000],
    ["Thu Jan 22 06:40:10 2026", 10_000],
    ["Sun Feb  1 06:40:00 2026", 10 * 86_400_000],
    // A day later, across a month end and a year end.
    ["Fri, 23 Jan 2026 06:40:00 GMT", 86_400_000],
    // Impossible dates and things Date.parse would accept.
    ["Sat, 31 Feb 2026 00:00:00 GMT", undefined],
    ["Thu, 22 Jan 2026 24:00:00 GMT", undefined],
    ["Thu, 22 Jan 2026 06:41:30", undefined],
    ["2026-01-22T06:41:30Z", undefined],
    ["22 Jan 2026 06:41:30 GMT", undefined],
  ];
  for (const [header, expected] of cases) {
    assert.equal(parseRetryAfter(header, NOW), expected, `Retry-After: ${JSON.stringify(header)}`);
  }
});

Deno.test("parseRetryAfter puts RFC 850 two-digit years within 50 years", () => {
  // In 2026, "80" is 1980 (2080 would be more than 50 years ahead): in the past.
  assert.equal(parseRetryAfter("Tuesday, 01-Jan-80 00:00:00 GMT", NOW), 0);
  // "70" is 2070, 44 years ahead.
  assert.equal(
    parseRetryAfter("Tuesday, 01-Jan-70 00:00:00 GMT", NOW),
    Date.UTC(2070, 0, 1) - NOW,
  );
  // "27" is 2027.
  assert.equal(
    parseRetryAfter("Friday, 22-Jan-27 06:40:00 GMT", NOW),
    365 * 86_400_000,
  );
});

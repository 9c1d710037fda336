/**
 * The dashboard in a real browser: Debian's Chromium driven by
 * playwright-core, against a real daemon (`main.ts serve`) delivering to a
 * local receiver whose answers the test switches between failing and
 * succeeding. Each step waits for what the page shows, never for a fixed
 * time; the short retry policy makes a dead letter in well under a second.
 *
 * Screenshots at laptop (1366x768) and phone (390x844) sizes go to
 * `test-artifacts/ui/` (gitignored); README's two come from here too
 * (`HOOKD_UI_DOCS=1` also writes them to `docs/`).
 *
 * Without Chromium the test is skipped with a message, except under
 * `CI=true`, where it fails: `.ci/run` installs the `chromium` package.
 */
import assert from "node:assert/strict";
import { type Browser, chromium, type Page } from "playwright-core";
import { type Receiver, type Reply, startReceiver } from "../src/testing/receiver.ts";
import { api, type RunningDaemon, startDaemon } from "./_daemon.ts";

const CHROMIUM_PATHS = ["/usr/bin/chromium", "/usr/bin/chromium-browser"];
const ADMIN_KEY = "ui-browser-test-admin-key-0123456789";
const ARTIFACTS = new URL("../test-artifacts/ui/", import.meta.url);
const DOCS = new URL("../docs/", import.meta.url);
/** Generous: two cores shared with the rest of the suite, which runs in parallel. */
const STEP_TIMEOUT_MS = 20_000;

const LAPTOP = { width: 1366, height: 768 };
const PHONE = { width: 390, height: 844 };

/** Two attempts 100 ms apart, then a dead letter. */
const CONFIG = `
[security]
allow_private_targets = true

[policies.default]
timeout = "2s"
schedule = ["0s", "100ms"]
on_exhausted = "dead"
`;

/** Hostile content: shown as text, it must never run. */
const HOSTILE =
  `<script>window.__pwned = "payload"</script><img src=x onerror="window.__pwned='img'">`;

function findChromium(): string | undefined {
  return CHROMIUM_PATHS.find((path) => {
    try {
      return Deno.statSync(path).isFile;
    } catch {
      return false;
    }
  });
}

const executablePath = findChromium();
const inCi = Deno.env.get("CI") === "true";
if (executablePath === undefined && !inCi) {
  console.warn(
    `ui_browser_test: skipped, no Chromium at ${CHROMIUM_PATHS.join(" or ")} ` +
      "(apt-get install chromium); under CI=true this fails instead",
  );
}

interface Webhook {
  id: string;
  url: string;
}
interface Accepted {
  id: string;
  deliveries: { id: string; webhook_id: string }[];
}

async function until(what: string, condition: () => Promise<boolean>, ms = STEP_TIMEOUT_MS) {
  const deadline = Date.now() + ms;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function screenshot(page: Page, name: string, docs = false): Promise<void> {
  await Deno.mkdir(ARTIFACTS, { recursive: true });
  // A passing notice from an earlier step is not part of the picture.
  await page.evaluate('document.getElementById("toast").replaceChildren()');
  const png = await page.screenshot({ path: new URL(`${name}.png`, ARTIFACTS).pathname });
  if (docs && Deno.env.get("HOOKD_UI_DOCS") === "1") {
    await Deno.mkdir(DOCS, { recursive: true });
    await Deno.writeFile(new URL(`${name}.png`, DOCS), png);
  }
}

/** Everything the page reported that should not happen: script errors, CSP violations, failed requests. */
function watch(page: Page): string[] {
  const problems: string[] = [];
  page.on("pageerror", (error) => problems.push(`page error: ${error.message}`));
  page.on("console", (message) => {
    // An API error answer (the refused key) is logged by the browser too; it is expected.
    if (message.type() === "error" && !message.text().startsWith("Failed to load resource")) {
      problems.push(`console: ${message.text()}`);
    }
  });
  return problems;
}

/** Records CSP violations and whether hostile content ran, before any page script. */
const PROBE = `
  window.__violations = [];
  document.addEventListener("securitypolicyviolation", (e) =>
    window.__violations.push(e.violatedDirective + " " + e.blockedURI));
`;

async function signIn(page: Page, base: string, key: string): Promise<void> {
  await page.goto(`${base}/ui`);
  await page.getByLabel("API key").fill(key);
  // Enter submits the form: no mouse needed.
  await page.getByLabel("API key").press("Enter");
  await page.getByRole("heading", { name: "Webhooks", level: 1 }).waitFor();
}

/** The write actions a key without write scopes must not be offered. */
const WRITE_BUTTONS =
  /^(New webhook|Pause|Resume|Enable|Disable|Cancel held|Edit|Rotate secret|Replay|Replay all matching|Retry now)$/;

Deno.test({
  name: "dashboard: sign in, create, inspect a failing webhook, replay, pause, read-only, escaping",
  ignore: executablePath === undefined && !inCi,
  // playwright-core keeps its own connection to the browser process across steps.
  sanitizeOps: false,
  sanitizeResources: false,
  async fn(t) {
    // Each step builds on the one before: stop at the first that fails.
    const step = async (name: string, fn: () => Promise<void>) => {
      if (!(await t.step(name, fn))) throw new Error(`step failed: ${name}`);
    };
    if (executablePath === undefined) {
      throw new Error(
        `No Chromium at ${CHROMIUM_PATHS.join(" or ")}: .ci/run installs Debian's chromium`,
      );
    }
    const dir = await Deno.makeTempDir({ prefix: "hookd-ui-" });
    let daemon: RunningDaemon | undefined;
    let browser: Browser | undefined;
    let receiver: Receiver | undefined;
    try {
      // `/ok` always succeeds; `/hook` fails until the test says otherwise.
      let failing = true;
      receiver = await startReceiver({
        respond: (request): Reply =>
          request.path === "/hook" && failing
            ? {
              status: 503,
              headers: { "content-type": "text/html", "x-trace": `<b>trace</b> ${HOSTILE}` },
              body: `<h1>Service unavailable</h1>${HOSTILE}`,
            }
            : { status: 200, headers: { "content-type": "application/json" }, body: '{"ok":true}' },
      });
      await Deno.writeTextFile(`${dir}/hookd.toml`, CONFIG);
      daemon = await startDaemon({
        dir,
        args: ["--config", `${dir}/hookd.toml`],
        env: {
          HOOKD_SERVER_LISTEN: "127.0.0.1:0",
          HOOKD_STORE_URL: `file:${dir}/hookd.db`,
          HOOKD_ADMIN_KEY: ADMIN_KEY,
          HOOKD_LOG_LEVEL: "warn",
        },
      });
      const base = daemon.url;
      const admin = { key: ADMIN_KEY };
      const running = daemon;
      const post = async (type: string, data: unknown) =>
        (await api<Accepted>(running, "POST", "/api/v1/events", { ...admin, body: { type, data } }))
          .body;
      const deliveryState = async (id: string) =>
        (await api<{ state: string }>(running, "GET", `/api/v1/deliveries/${id}`, admin)).body
          .state;

      // A healthy webhook beside the one the test creates, so the list shows both kinds.
      const healthy = (await api<Webhook>(daemon, "POST", "/api/v1/webhooks", {
        ...admin,
        body: {
          url: `${receiver.url}/ok`,
          event_types: ["order.*", "invoice.paid"],
          description: "billing",
          basic_auth: { username: "billing-bot", password: "never-shown-pw" },
        },
      })).body;
      for (let i = 0; i < 3; i++) await post("invoice.paid", { invoice: i });
      const viewer = (await api<{ key: string }>(daemon, "POST", "/api/v1/keys", {
        ...admin,
        body: { name: "viewer", scopes: ["webhooks:read", "deliveries:read"] },
      })).body.key;

      browser = await chromium.launch({ executablePath, args: ["--no-sandbox"] });
      const context = await browser.newContext({ viewport: LAPTOP });
      context.setDefaultTimeout(STEP_TIMEOUT_MS);
      await context.addInitScript(PROBE);
      const page = await context.newPage();
      const problems = watch(page);
      let hook: Webhook | undefined;
      let dead: string[] = [];

      await step("the page is served under its CSP and the key is never in a URL", async () => {
        const response = await page.goto(`${base}/ui`);
        assert.equal(response?.status(), 200);
        assert.match(response!.headers()["content-security-policy"]!, /script-src 'self'/);
        await page.getByRole("heading", { name: "Sign in" }).waitFor();
        await screenshot(page, "sign-in-laptop");
      });

      await step("a wrong key is refused; the right one signs in with Enter", async () => {
        await page.getByLabel("API key").fill("not-a-key");
        await page.getByLabel("API key").press("Enter");
        await page.getByText("That key was refused").waitFor();
        await signIn(page, base, ADMIN_KEY);
        assert.ok(!page.url().includes(ADMIN_KEY));
        const stored = await page.evaluate(() => sessionStorage.getItem("hookd.key"));
        assert.equal(stored, ADMIN_KEY);
        assert.equal(await page.evaluate(() => localStorage.length), 0);
      });

      await step(
        "create a webhook; its secret is shown once; Esc closes the dialog",
        async () => {
          await page.getByRole("button", { name: "New webhook" }).click();
          await page.getByLabel("URL").fill(`${receiver!.url}/hook`);
          await page.getByLabel("Event types").fill("order.*");
          await page.getByLabel("Description").fill("orders service");
          await page.getByLabel("Description").press("Enter");
          const secret = page.getByRole("textbox", { name: "Secret", exact: true });
          await secret.waitFor();
          assert.match(await secret.inputValue(), /^whsec_/);
          await page.keyboard.press("Escape");
          await secret.waitFor({ state: "detached" });
          await page.getByRole("heading", { name: `${receiver!.url}/hook` }).waitFor();
          const list = await api<{ data: Webhook[] }>(running, "GET", "/api/v1/webhooks", admin);
          hook = list.body.data.find((w) => w.url === `${receiver!.url}/hook`);
          assert.ok(hook, "the webhook was created through the API");
        },
      );

      await step(
        "a failing webhook shows in the list; its attempt shows headers and body",
        async () => {
          const first = await post("order.created", { order: 1, note: HOSTILE });
          const second = await post("order.shipped", { order: 1 });
          // The healthy webhook takes order events too; these are the failing one's deliveries.
          dead = [first, second].map((e) =>
            e.deliveries.find((d) => d.webhook_id === hook!.id)!.id
          );
          await until(
            "two dead letters",
            async () => (await Promise.all(dead.map(deliveryState))).every((s) => s === "dead"),
          );
          await page.goto(`${base}/ui#/webhooks`);
          const row = page.locator(`tr[data-webhook="${hook!.id}"]`);
          await row.getByText("0%").waitFor();
          await row.getByText("503").waitFor();
          await page.locator(`tr[data-webhook="${healthy.id}"]`).getByText("100%").waitFor();
          await screenshot(page, "dashboard-webhooks", true);

          await row.getByRole("link", { name: `${receiver!.url}/hook` }).click();
          const delivery = page.locator(`tr[data-delivery="${dead[0]}"]`);
          await delivery.getByText("dead").waitFor();
          await delivery.getByText("503").waitFor();
          await delivery.getByRole("link").first().click();
          const attempt = page.locator('section[data-attempt="2"]');
          await attempt.getByText("Request headers").waitFor();
          await attempt.getByText("webhook-signature").waitFor();
          await attempt.getByText("x-trace").waitFor();
          // The receiver's markup is shown as the text it is.
          await attempt.locator("pre.response-body").getByText("<h1>Service unavailable</h1>", {
            exact: false,
          }).waitFor();
          await screenshot(page, "dashboard-attempt", true);
        },
      );

      await step("an event's payload with <script> is shown as text and never runs", async () => {
        await page.getByRole("link", { name: /^order\.created/ }).click();
        const payload = page.locator("pre.payload");
        await payload.waitFor();
        assert.ok((await payload.textContent())!.includes("<script>window.__pwned"));
        assert.equal(
          await page.evaluate("window.__pwned"),
          undefined,
        );
        // The page's one script is its own; nothing the data carried became an element.
        assert.equal(await page.locator("script").count(), 1);
        assert.equal(await page.locator("main img").count(), 0);
        await screenshot(page, "event-laptop");
      });

      await step("replay one dead letter, then a filtered set; both succeed", async () => {
        failing = false;
        await page.goto(`${base}/ui#/dead-letters`);
        const one = page.locator(`tr[data-delivery="${dead[0]}"]`);
        await one.getByRole("button", { name: "Replay" }).click();
        await page.getByText("Replayed: sending now.").waitFor();
        await until(
          "the replayed delivery to succeed",
          async () => (await deliveryState(dead[0]!)) === "succeeded",
        );
        await page.goto(`${base}/ui#/deliveries/${dead[0]}`);
        await page.locator(".fields").getByText("succeeded").waitFor();

        await page.goto(`${base}/ui#/dead-letters`);
        await page.locator(`tr[data-delivery="${dead[1]}"]`).waitFor();
        await page.getByLabel("Event type").fill("order.shipped");
        await page.getByLabel("Event type").press("Enter");
        await page.getByRole("button", { name: "Replay all matching" }).click();
        await page.getByRole("dialog").getByRole("button", { name: "Replay" }).click();
        await page.getByText("Replayed 1 delivery.").waitFor();
        await until(
          "the replayed set to succeed",
          async () => (await deliveryState(dead[1]!)) === "succeeded",
        );
        await page.goto(`${base}/ui#/dead-letters`);
        await page.getByText("No dead letters match.").waitFor();
      });

      await step("pause, cancel what is held, and resume from the webhook's page", async () => {
        await page.goto(`${base}/ui#/webhooks/${hook!.id}`);
        await page.getByRole("button", { name: "Pause" }).click();
        await page.locator(".fields").getByText("paused").waitFor();
        const paused = await api<{ state: string }>(
          running,
          "GET",
          `/api/v1/webhooks/${hook!.id}`,
          admin,
        );
        assert.equal(paused.body.state, "paused");
        // A paused webhook holds what arrives; the operator may drop it instead of sending it.
        const held = (await post("order.created", { order: 2 })).deliveries
          .find((d) => d.webhook_id === hook!.id)!.id;
        assert.equal(await deliveryState(held), "held");
        await page.getByRole("button", { name: "Cancel held" }).click();
        await page.getByRole("dialog").getByRole("button", { name: "Cancel them" }).click();
        await page.getByText("Cancelled 1 held delivery.").waitFor();
        assert.equal(await deliveryState(held), "cancelled");
        await page.getByRole("button", { name: "Resume" }).click();
        await page.locator(".fields").getByText("active").waitFor();
        const resumed = await api<{ state: string }>(
          running,
          "GET",
          `/api/v1/webhooks/${hook!.id}`,
          admin,
        );
        assert.equal(resumed.body.state, "enabled");
      });

      await step(
        "a webhook's page says how hookd signs in to the receiver, never the password",
        async () => {
          await page.goto(`${base}/ui#/webhooks/${healthy.id}`);
          const fields = page.locator(".fields");
          await fields.getByText("Basic, user billing-bot").waitFor();
          await fields.getByText("default ([delivery] proxy)").waitFor();
          await screenshot(page, "webhook-laptop");
          assert.ok(!(await page.content()).includes("never-shown-pw"));
          // The test's own webhook has no receiver auth: no such row at all.
          await page.goto(`${base}/ui#/webhooks/${hook!.id}`);
          await page.locator(".fields").getByText("default ([delivery] proxy)").waitFor();
          assert.equal(await page.locator(".fields dt", { hasText: "Receiver auth" }).count(), 0);
        },
      );

      await step("the live view shows throughput", async () => {
        await page.goto(`${base}/ui#/live`);
        await page.locator('[data-tile="pending"] .tile-value').getByText("0").waitFor();
        // Traffic after the first reading shows as a rate at the next one.
        for (let i = 0; i < 5; i++) await post("invoice.paid", { invoice: 100 + i });
        await page.locator('[data-tile="attempts-rate"] .tile-value')
          .filter({ hasNotText: /^(…|0\.0\/s)$/ }).waitFor();
        await screenshot(page, "live-laptop");
      });

      await step("sign out forgets the key", async () => {
        await page.getByRole("button", { name: "Sign out" }).click();
        await page.getByRole("heading", { name: "Sign in" }).waitFor();
        assert.equal(await page.evaluate(() => sessionStorage.getItem("hookd.key")), null);
      });

      await step("a read-only key sees no write action anywhere", async () => {
        await signIn(page, base, viewer);
        const noWrites = async (where: string) => {
          await page.locator("main h1").first().waitFor();
          const offered = await page.getByRole("button", { name: WRITE_BUTTONS }).count();
          assert.equal(offered, 0, `write actions offered on ${where}`);
        };
        await page.locator(`tr[data-webhook="${hook!.id}"]`).waitFor();
        await noWrites("the webhook list");
        await page.goto(`${base}/ui#/webhooks/${hook!.id}`);
        await page.locator(`tr[data-delivery="${dead[0]}"]`).waitFor();
        await noWrites("a webhook");
        await page.goto(`${base}/ui#/deliveries/${dead[0]}`);
        await page.getByText("Request headers").first().waitFor();
        await noWrites("a delivery");
        await page.goto(`${base}/ui#/dead-letters`);
        await page.getByText("No dead letters match.").waitFor();
        await noWrites("the dead letters");
        await page.getByRole("button", { name: "Sign out" }).click();
      });

      await step("phone-sized screens", async () => {
        const phone = await browser!.newContext({
          viewport: PHONE,
          isMobile: true,
          hasTouch: true,
        });
        phone.setDefaultTimeout(STEP_TIMEOUT_MS);
        const small = await phone.newPage();
        const smallProblems = watch(small);
        await signIn(small, base, ADMIN_KEY);
        // The replays succeeded: the last status is a 200 now.
        await small.locator(`tr[data-webhook="${hook!.id}"]`).getByText("200").waitFor();
        await screenshot(small, "webhooks-phone");
        await small.goto(`${base}/ui#/deliveries/${dead[0]}`);
        await small.locator('section[data-attempt="3"]').getByText("Response headers").waitFor();
        await screenshot(small, "attempt-phone");
        // Nothing is wider than the screen, on the attempt's page or a webhook's.
        const sideways = () =>
          small.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth",
          ) as Promise<number>;
        let overflow = await sideways();
        assert.ok(overflow <= 0, `the attempt page scrolls sideways by ${overflow}px`);
        await small.goto(`${base}/ui#/webhooks/${healthy.id}`);
        await small.locator(".fields").getByText("Basic, user billing-bot").waitFor();
        await screenshot(small, "webhook-phone");
        overflow = await sideways();
        assert.ok(overflow <= 0, `the webhook page scrolls sideways by ${overflow}px`);
        await phone.close();
        assert.deepEqual(smallProblems, []);
      });

      assert.deepEqual(
        await page.evaluate("window.__violations"),
        [],
      );
      assert.deepEqual(problems, []);
      assert.equal(await daemon.stop("SIGTERM"), 0);
    } catch (error) {
      if (error instanceof Error && daemon) error.message += daemon.output();
      throw error;
    } finally {
      await browser?.close();
      await daemon?.kill();
      await receiver?.close();
      await Deno.remove(dir, { recursive: true });
    }
  },
});

/**
 * `deno task compile`: hookd as one executable for the platform this runs
 * on, named for it (`dist/hookd-x86_64-unknown-linux-gnu`,
 * `dist/hookd-aarch64-apple-darwin`, …) so builds for several platforms can
 * sit side by side. deploy/Dockerfile builds the container's binary with it.
 *
 * Needs internet: `deno compile` downloads the `denort` runtime for the
 * target. It builds for the running platform only, because the store's
 * libSQL native module comes from an npm package per platform
 * (`@libsql/linux-x64-gnu`, …), and the one this platform uses is what is
 * known to load; build on (or in a container of) each platform you ship.
 *
 * @module
 */
import { V8_FLAGS_ARG } from "./v8_flags.ts";

/** The `deno` arguments that compile hookd for `target`, from the repository root. */
export function compileArgs(target: string): string[] {
  return [
    "compile",
    "--allow-all",
    // deno.lock pins every npm package; a lock that does not match deno.json is an error.
    "--frozen-lockfile",
    // The store's worker is started by URL (`new Worker(...)`), which the
    // module graph does not follow: embed it explicitly.
    "--include",
    "src/store/worker.ts",
    // The dashboard's files are read from disk at run time (src/api/ui.ts), not imported.
    "--include",
    "ui",
    // Baked into the binary: the container and the systemd unit run with them.
    V8_FLAGS_ARG,
    "--target",
    target,
    "--output",
    `dist/hookd-${target}`,
    "main.ts",
  ];
}

if (import.meta.main) {
  const root = new URL("../", import.meta.url);
  const args = compileArgs(Deno.build.target);
  const { code } = await new Deno.Command(Deno.execPath(), { args, cwd: root }).spawn().status;
  if (code === 0) console.log(`hookd compiled to ${args.at(-2)}`);
  Deno.exit(code);
}

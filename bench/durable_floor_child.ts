/** Starting the durable floor (durable_floor.ts) as a child for the benchmarks. */
import { type Child, spawnChild } from "./child.ts";

/** A fresh durable floor storing into `dbPath` and delivering to `receiverUrl`. */
export function spawnDurableFloor(options: {
  readonly name: string;
  readonly root: string;
  readonly dbPath: string;
  readonly receiverUrl: string;
}): Promise<Child> {
  return spawnChild({
    name: options.name,
    args: [
      "run",
      "-A",
      `${options.root}bench/durable_floor.ts`,
      `--db=${options.dbPath}`,
      `--receiver=${options.receiverUrl}`,
    ],
    cwd: options.root,
    listening: /floor listening on (http:\/\/[^\s]+)/,
  });
}

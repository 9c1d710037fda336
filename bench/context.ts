/** What every child-process benchmark gets from `run.ts`, and what it gives back. */
import type { Child } from "./child.ts";
import type { Row } from "./report.ts";

export interface BenchContext {
  readonly tempDir: string;
  readonly root: string;
  readonly adminKey: string;
  readonly profileDir?: string;
  /** Called with every child started, so the caller can stop it on failure. */
  readonly track: (child: Child) => void;
  /** Stops a child the caller tracks and reports an abnormal exit. */
  readonly stop: (child: Child) => Promise<void>;
  readonly progress: (message: string) => void;
}

export interface BenchOutcome {
  readonly rows: Row[];
  readonly notes: string[];
  readonly details: Record<string, unknown>;
}

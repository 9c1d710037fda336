/**
 * A progress line for a long wait: after the first second, `label` and the
 * seconds elapsed, redrawn in place once a second and erased when the work
 * settles. Drawn only on a terminal: in a log or a pipe a line per second is
 * noise, and the command's summary says what happened.
 */
import type { Clock } from "../clock.ts";

export interface ProgressOptions {
  /** What is being waited for, e.g. "hookd: replaying dead deliveries". */
  readonly label: string;
  readonly clock: Clock;
  /** Writes to the terminal as given (the line is redrawn with "\r"). */
  readonly write: (text: string) => void;
  /** False: no line at all (stderr is not a terminal). */
  readonly enabled: boolean;
}

const INTERVAL_MS = 1_000;
/** Carriage return and "erase to the end of the line": the next draw or the clean-up starts blank. */
const REDRAW = "\r\x1b[K";

/** Resolves or rejects as `work` does, showing the progress line meanwhile. */
export async function withProgress<T>(work: Promise<T>, options: ProgressOptions): Promise<T> {
  if (!options.enabled) return await work;
  const { clock, label, write } = options;
  const started = clock.now();
  let drawn = false;
  let timer: unknown;
  const tick = () => {
    const seconds = Math.floor((clock.now() - started) / 1_000);
    write(`${REDRAW}${label} ${seconds}s`);
    drawn = true;
    timer = clock.setTimeout(tick, INTERVAL_MS);
  };
  timer = clock.setTimeout(tick, INTERVAL_MS);
  try {
    return await work;
  } finally {
    clock.clearTimeout(timer);
    if (drawn) write(REDRAW);
  }
}

/**
 * Secret rotation for anything that signs (a webhook, a credential): the new
 * secret signs from now on, the current one keeps signing until
 * `previousUntil`, so receivers can switch without dropping a request.
 */
import type { Executor } from "./executor.ts";

interface Rotatable {
  readonly secret: string | null;
  readonly previousSecret: string | null;
  readonly previousSecretUntil: number | null;
  readonly updatedAt: number;
}

export async function rotateSecret<T extends Rotatable>(
  db: Executor,
  table: "webhooks" | "credentials",
  current: T,
  id: string,
  secret: string,
  previousUntil: number,
  now: number,
): Promise<T> {
  await db.execute({
    sql: `UPDATE ${table} SET secret = ?, previous_secret = ?, previous_secret_until = ?,
      updated_at = ? WHERE id = ?`,
    args: [secret, current.secret, previousUntil, now, id],
  });
  return {
    ...current,
    secret,
    previousSecret: current.secret,
    previousSecretUntil: previousUntil,
    updatedAt: now,
  };
}

/**
 * Where store-level tests start: a migrated database holding one enabled
 * webhook, `w`, subscribed to every event type.
 */
import type { Client } from "@libsql/client";
import { migrate } from "../store/migrations.ts";

export async function migrateWithWebhook(client: Client, now: number): Promise<void> {
  await migrate(client, now);
  await client.execute({
    sql: `INSERT INTO webhooks (id, url, event_types, state, policy, profile, created_at,
        updated_at) VALUES ('w', 'http://127.0.0.1:9/', '["*"]', 'enabled', 'default',
        'standard', ?1, ?1)`,
    args: [now],
  });
}

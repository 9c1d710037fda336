/**
 * The webhook row the benchmark workers write for themselves, in plain SQL
 * naming only the columns the schema requires (the rest keep their defaults),
 * so the fixtures keep working while hookd's webhook record grows fields.
 */
import type { Client } from "@libsql/client";

export async function insertBenchWebhook(
  client: Client,
  webhook: { id: string; url: string; state: "enabled" | "paused"; now: number },
): Promise<void> {
  await client.execute({
    sql: `INSERT INTO webhooks (id, url, description, event_types, state, policy, profile,
      secret, created_at, updated_at) VALUES (?, ?, 'bench', '["*"]', ?, 'default', 'standard',
      'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', ?, ?)`,
    args: [webhook.id, webhook.url, webhook.state, webhook.now, webhook.now],
  });
}

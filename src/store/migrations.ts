/**
 * Numbered schema migrations. Each runs once, in order, inside its own
 * transaction together with its row in `schema_migrations`, so a crash mid-way
 * leaves either the old schema or the new one. Never edit a released
 * migration; add the next number.
 *
 * Timestamps are integer milliseconds since the epoch (the API renders them
 * as RFC 3339). JSON columns hold text.
 */
import type { Client } from "@libsql/client";

export interface Migration {
  readonly version: number;
  readonly name: string;
  readonly sql: readonly string[];
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: "initial schema",
    sql: [
      // Reusable signing material that several webhooks reference (seed 003).
      `CREATE TABLE credentials (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        secret TEXT NOT NULL,
        previous_secret TEXT,
        previous_secret_until INTEGER,
        headers TEXT NOT NULL DEFAULT '{}',
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL,
        deleted_at INTEGER
      )`,
      `CREATE INDEX credentials_updated ON credentials (updated_at)`,
      `CREATE TABLE webhooks (
        id TEXT PRIMARY KEY,
        url TEXT NOT NULL,
        description TEXT NOT NULL DEFAULT '',
        event_types TEXT NOT NULL,
        state TEXT NOT NULL CHECK (state IN ('enabled', 'paused', 'disabled')),
        disabled_reason TEXT,
        policy TEXT NOT NULL,
        profile TEXT NOT NULL,
        secret TEXT,
        previous_secret TEXT,
        previous_secret_until INTEGER,
        headers TEXT NOT NULL DEFAULT '{}',
        rate_limit_per_second REAL,
        max_in_flight INTEGER,
        tenant_id TEXT,
        metadata TEXT NOT NULL DEFAULT '{}',
        credential_id TEXT REFERENCES credentials (id),
        tls TEXT,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL,
        deleted_at INTEGER
      )`,
      `CREATE INDEX webhooks_updated ON webhooks (updated_at)`,
      `CREATE INDEX webhooks_credential ON webhooks (credential_id)`,
      `CREATE TABLE events (
        id TEXT PRIMARY KEY,
        tenant_id TEXT,
        type TEXT NOT NULL,
        payload TEXT NOT NULL,
        fingerprint TEXT NOT NULL,
        idempotency_key TEXT UNIQUE,
        occurred_at INTEGER NOT NULL,
        received_at INTEGER NOT NULL
      )`,
      `CREATE TABLE deliveries (
        id TEXT PRIMARY KEY,
        event_id TEXT NOT NULL REFERENCES events (id),
        webhook_id TEXT NOT NULL REFERENCES webhooks (id),
        event_type TEXT NOT NULL,
        state TEXT NOT NULL CHECK (state IN
          ('pending', 'sending', 'succeeded', 'failed', 'dead', 'cancelled', 'held')),
        attempts INTEGER NOT NULL DEFAULT 0,
        next_attempt_at INTEGER,
        last_status INTEGER,
        last_error TEXT,
        lease_owner TEXT,
        lease_until INTEGER,
        schedule_started_at INTEGER NOT NULL,
        schedule_attempts INTEGER NOT NULL DEFAULT 0,
        next_trigger TEXT NOT NULL DEFAULT 'scheduled' CHECK (next_trigger IN ('scheduled', 'manual')),
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL
      )`,
      `CREATE INDEX deliveries_due ON deliveries (state, next_attempt_at)`,
      `CREATE INDEX deliveries_lease ON deliveries (state, lease_until)`,
      `CREATE INDEX deliveries_state_id ON deliveries (state, id)`,
      `CREATE INDEX deliveries_event ON deliveries (event_id)`,
      `CREATE INDEX deliveries_webhook ON deliveries (webhook_id, id)`,
      `CREATE TABLE attempts (
        id TEXT PRIMARY KEY,
        delivery_id TEXT NOT NULL REFERENCES deliveries (id),
        number INTEGER NOT NULL,
        trigger TEXT NOT NULL CHECK (trigger IN ('scheduled', 'manual')),
        started_at INTEGER NOT NULL,
        duration_ms INTEGER NOT NULL,
        request_headers TEXT NOT NULL,
        response_status INTEGER,
        response_headers TEXT,
        response_body TEXT,
        error_kind TEXT,
        error_message TEXT
      )`,
      `CREATE INDEX attempts_delivery ON attempts (delivery_id, number)`,
      `CREATE TABLE api_keys (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        hash TEXT NOT NULL,
        scopes TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        last_used_at INTEGER,
        revoked_at INTEGER
      )`,
    ],
  },
  {
    version: 2,
    name: "partial indexes on delivery state",
    // A delivery's state changes two or three times in its life. Indexes that
    // lead with `state` hold every delivery forever and rewrite three entries
    // on each change; partial ones hold only the deliveries that are looked
    // for by state (the scheduler's, the dead-letter queue's, and those a
    // pause, resume or disable moves), so a delivery that succeeds leaves
    // one entry behind instead of three. Queries name the state as a literal
    // (`state = 'pending'`): SQLite uses a partial index only then.
    sql: [
      `DROP INDEX deliveries_due`,
      `DROP INDEX deliveries_lease`,
      `DROP INDEX deliveries_state_id`,
      `CREATE INDEX deliveries_pending ON deliveries (next_attempt_at) WHERE state = 'pending'`,
      `CREATE INDEX deliveries_sending ON deliveries (lease_until) WHERE state = 'sending'`,
      `CREATE INDEX deliveries_dead ON deliveries (id) WHERE state = 'dead'`,
      `CREATE INDEX deliveries_pending_by_webhook ON deliveries (webhook_id)
        WHERE state = 'pending'`,
      `CREATE INDEX deliveries_held_by_webhook ON deliveries (webhook_id) WHERE state = 'held'`,
    ],
  },
  {
    version: 3,
    name: "readiness probe row",
    // `/readyz` rewrites this one row to find out whether the store takes
    // writes again after a write failed (disk full, read-only file): only a
    // commit proves that, and this one touches nothing else.
    sql: [
      `CREATE TABLE readiness_probe (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        checked_at INTEGER NOT NULL
      )`,
      `INSERT INTO readiness_probe (id, checked_at) VALUES (1, 0)`,
    ],
  },
  {
    version: 4,
    name: "webhook view version",
    // Every daemon sharing the database keeps the webhooks (and credentials)
    // in memory for fan-out and dispatch. This one row is bumped by triggers
    // on every write to either table, whoever makes it (any daemon, any
    // build that knows the tables), so a daemon reads one row inside its
    // transaction to know exactly whether its copy is current.
    sql: [
      `CREATE TABLE webhook_view_version (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        version INTEGER NOT NULL
      )`,
      `INSERT INTO webhook_view_version (id, version) VALUES (1, 1)`,
      ...["webhooks", "credentials"].flatMap((table) =>
        ["INSERT", "UPDATE", "DELETE"].map((op) =>
          `CREATE TRIGGER ${table}_${op.toLowerCase()}_bumps_view AFTER ${op} ON ${table}
            BEGIN UPDATE webhook_view_version SET version = version + 1 WHERE id = 1; END`
        )
      ),
    ],
  },
  {
    version: 5,
    name: "endpoint health",
    sql: [
      // A disabled or paused webhook holds its deliveries; `held_at` says since
      // when, so releasing them can give back the time held: a hold never
      // consumes a policy's `max_age`.
      `ALTER TABLE deliveries ADD COLUMN held_at INTEGER`,
      // When the webhook was disabled, by an operator or by an auto-disable rule.
      `ALTER TABLE webhooks ADD COLUMN disabled_at INTEGER`,
      // What the auto-disable rules count, per webhook. A table of its own:
      // it changes with every final attempt, and a write to `webhooks` would
      // make every daemon reload its webhook view.
      `CREATE TABLE webhook_health (
        webhook_id TEXT PRIMARY KEY REFERENCES webhooks (id),
        failing_since INTEGER,
        exhausted_in_row INTEGER NOT NULL DEFAULT 0,
        last_attempt_at INTEGER,
        last_error TEXT
      )`,
    ],
  },
  {
    version: 6,
    name: "recover, retention and erasure",
    sql: [
      // Recover walks a window of acceptance times, and the purger walks
      // events older than retention: neither can use the id, which a
      // producer may choose. One entry per event, on ingest's path.
      `CREATE INDEX events_received ON events (received_at, id)`,
      // Set when the event's data was erased (DELETE /api/v1/events/{id}):
      // its payload is then 'null' and its attempts' headers and bodies gone.
      `ALTER TABLE events ADD COLUMN erased_at INTEGER`,
      // What stays of an erased event for good, after retention has removed
      // the event row itself: its id and Idempotency-Key can never be used
      // again, so no producer's retry brings the erased data back.
      `CREATE TABLE event_tombstones (
        id TEXT PRIMARY KEY,
        idempotency_key TEXT,
        erased_at INTEGER NOT NULL
      )`,
      `CREATE UNIQUE INDEX event_tombstones_key ON event_tombstones (idempotency_key)
        WHERE idempotency_key IS NOT NULL`,
      // Ingest's insert-or-ignore skips a tombstoned id or key like a taken
      // one, so ingest itself needs no extra statement; its repeat path
      // (events.ts, findFirst) then finds the tombstone and answers "erased".
      // Two primary-key probes of a table that is almost always empty.
      `CREATE TRIGGER events_tombstoned BEFORE INSERT ON events
        WHEN EXISTS (SELECT 1 FROM event_tombstones WHERE id = NEW.id)
          OR (NEW.idempotency_key IS NOT NULL AND EXISTS
            (SELECT 1 FROM event_tombstones WHERE idempotency_key = NEW.idempotency_key))
        BEGIN SELECT RAISE(IGNORE); END`,
    ],
  },
  {
    version: 7,
    name: "ordered delivery",
    sql: [
      // "none", "key" (a predecessor that ended without success releases the next) or
      // "key_strict" (it holds the next until it is replayed to success).
      `ALTER TABLE webhooks ADD COLUMN ordering TEXT NOT NULL DEFAULT 'none'`,
      `ALTER TABLE events ADD COLUMN ordering_key TEXT`,
      // Set only on deliveries to a webhook with ordering: they wait their turn per key,
      // in acceptance order (rowid: the one writer inserts in commit order, whichever
      // daemon accepted the event).
      `ALTER TABLE deliveries ADD COLUMN ordering_key TEXT`,
      `CREATE INDEX deliveries_ordered ON deliveries (webhook_id, ordering_key, state)
        WHERE ordering_key IS NOT NULL`,
    ],
  },
  {
    version: 8,
    name: "trace context",
    // A producer's W3C `traceparent` and `tracestate`, continued on every attempt.
    sql: [
      `ALTER TABLE events ADD COLUMN trace_parent TEXT`,
      `ALTER TABLE events ADD COLUMN trace_state TEXT`,
    ],
  },
  {
    version: 10,
    name: "receiver auth: OAuth2 client credentials and basic auth",
    sql: [
      // How hookd authenticates to the receiver (receiver_auth.ts), as JSON;
      // NULL: it does not. Secrets in it are write-only: the API never shows them.
      `ALTER TABLE webhooks ADD COLUMN receiver_auth TEXT`,
      `ALTER TABLE credentials ADD COLUMN receiver_auth TEXT`,
      // OAuth2 access tokens, one per webhook or credential that asks for
      // them, so every daemon sharing the database uses the one token another
      // fetched rather than each fetching its own. A table of its own: a write
      // to webhooks or credentials would make every daemon reload its view.
      // `fingerprint` identifies the OAuth2 settings the token was fetched
      // with: a token of settings since changed is never used.
      `CREATE TABLE receiver_tokens (
        owner TEXT PRIMARY KEY,
        fingerprint TEXT NOT NULL,
        access_token TEXT NOT NULL,
        fetched_at INTEGER NOT NULL,
        refresh_at INTEGER NOT NULL
      )`,
    ],
  },
  {
    version: 11,
    name: "webhook proxy",
    // NULL: the [delivery] proxy (if any); 'direct': none; else a name in [delivery] proxies.
    // Names only: proxy URLs and credentials live in the config file.
    sql: [`ALTER TABLE webhooks ADD COLUMN proxy TEXT`],
  },
  {
    version: 12,
    name: "recallable postponements",
    sql: [
      // 1: given back by a full queue in the sending pool (pool.ts), to be
      // recalled as soon as the queue has room rather than at the time its
      // pace suggested; cleared when the delivery is claimed. 0 otherwise
      // (the breaker's postponements wait for the probe).
      `ALTER TABLE deliveries ADD COLUMN postponed INTEGER NOT NULL DEFAULT 0`,
      `CREATE INDEX deliveries_postponed ON deliveries (webhook_id, next_attempt_at)
        WHERE postponed = 1 AND state = 'pending'`,
    ],
  },
];

/** Applies every migration newer than the database's version; returns the versions applied. */
export async function migrate(client: Client, now: number): Promise<number[]> {
  await client.execute(
    `CREATE TABLE IF NOT EXISTS schema_migrations (
      version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)`,
  );
  const applied = new Set(
    (await client.execute("SELECT version FROM schema_migrations")).rows.map((r) =>
      Number(r.version)
    ),
  );
  const done: number[] = [];
  for (const migration of MIGRATIONS) {
    if (applied.has(migration.version)) continue;
    const tx = await client.transaction("write");
    try {
      // Another daemon on a shared server may have applied it since we looked.
      const again = await tx.execute({
        sql: "SELECT 1 FROM schema_migrations WHERE version = ?",
        args: [migration.version],
      });
      if (again.rows.length === 0) {
        for (const statement of migration.sql) await tx.execute(statement);
        await tx.execute({
          sql: "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
          args: [migration.version, migration.name, now],
        });
        done.push(migration.version);
      }
      await tx.commit();
    } catch (error) {
      await tx.rollback().catch(() => {});
      throw new Error(`Cannot apply migration ${migration.version} (${migration.name})`, {
        cause: error,
      });
    } finally {
      tx.close();
    }
  }
  return done;
}

/** The newest migration this build knows; `/readyz` checks the store has it. */
export const SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1]!.version;

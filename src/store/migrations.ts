/**
 * Every table of the product's SQLite file (PostgreSQL's list: postgres-migrations.ts), in one ordered list. A migration is applied
 * once, in a transaction, and never edited after release: change the schema by appending
 * a new entry (the digest adds its subscriptions and ledger here). Times are Unix
 * milliseconds; Telegram ids are integers (group ids are negative).
 */

import type { Migration } from './sql.ts';

export const MIGRATIONS: readonly Migration[] = [
  {
    id: '001-bot-core',
    up: `
      -- Every chat the bot has seen. blocked_at: Telegram answered 403 (blocked, kicked);
      -- cleared when the chat writes again. history_cleared_at: /new.
      CREATE TABLE chats (
        id                 INTEGER PRIMARY KEY,
        type               TEXT    NOT NULL,
        title              TEXT,
        first_seen_at      INTEGER NOT NULL,
        last_seen_at       INTEGER NOT NULL,
        blocked_at         INTEGER,
        history_cleared_at INTEGER NOT NULL DEFAULT 0
      );

      -- One row per message with buttons (an answer, a page of more results) and per
      -- inline answer. Buttons carry only the row id, so they keep working after a
      -- restart. The answers of a chat are also its conversation history.
      CREATE TABLE answers (
        id          INTEGER PRIMARY KEY AUTOINCREMENT,
        kind        TEXT    NOT NULL CHECK (kind IN ('answer', 'more', 'inline')),
        chat_id     INTEGER,
        user_id     INTEGER,
        message_id  INTEGER,
        parent_id   INTEGER REFERENCES answers(id) ON DELETE CASCADE,
        question    TEXT    NOT NULL,
        standalone  TEXT    NOT NULL,
        answer_text TEXT    NOT NULL,
        found       INTEGER NOT NULL,
        mode        TEXT    NOT NULL,
        sources     TEXT    NOT NULL,  -- JSON: the excerpts the buttons show
        shown       TEXT    NOT NULL,  -- JSON: chunk ids shown so far (for "more results")
        latency_ms  INTEGER,
        created_at  INTEGER NOT NULL
      );
      CREATE INDEX answers_by_chat ON answers (chat_id, id);
      CREATE INDEX answers_by_time ON answers (created_at);

      CREATE TABLE feedback (
        answer_id  INTEGER NOT NULL REFERENCES answers(id) ON DELETE CASCADE,
        user_id    INTEGER NOT NULL,
        value      INTEGER NOT NULL CHECK (value IN (-1, 1)),
        updated_at INTEGER NOT NULL,
        PRIMARY KEY (answer_id, user_id)
      );
    `,
  },
  {
    id: '002-digest',
    up: `
      -- Daily digests. A subscription follows a topic in one chat, optionally within one
      -- district or document (scope), at a local time in its time zone. next_run_at: the
      -- next slot to send (NULL while paused or stopped). status 'stopped': Telegram said
      -- the chat is gone (403); round: how many times the topic's passages went round.
      CREATE TABLE digest_subscriptions (
        id             INTEGER PRIMARY KEY AUTOINCREMENT,
        chat_id        INTEGER NOT NULL,
        topic          TEXT    NOT NULL,
        scope_kind     TEXT    NOT NULL DEFAULT '' CHECK (scope_kind IN ('', 'district', 'document')),
        scope_value    TEXT    NOT NULL DEFAULT '',
        scope_label    TEXT    NOT NULL DEFAULT '',
        send_time      TEXT    NOT NULL,
        time_zone      TEXT    NOT NULL,
        status         TEXT    NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'paused', 'stopped')),
        stopped_reason TEXT,
        round          INTEGER NOT NULL DEFAULT 1,
        next_run_at    INTEGER,
        created_by     INTEGER,
        created_at     INTEGER NOT NULL,
        updated_at     INTEGER NOT NULL,
        UNIQUE (chat_id, topic, scope_kind, scope_value)
      );
      CREATE INDEX digest_subscriptions_due ON digest_subscriptions (next_run_at) WHERE status = 'active';

      -- The delivery ledger: at most one row per subscription and local date, ever. It is
      -- written with the chosen content in the same transaction that records the passages
      -- as used and moves next_run_at on; then pending → sending → sent, or dropped (chat
      -- gone, or retries exhausted: its passages are released). parts_sent/message_ids:
      -- progress of a digest split into several messages, so a resend skips sent parts.
      CREATE TABLE digest_deliveries (
        id              INTEGER PRIMARY KEY AUTOINCREMENT,
        subscription_id INTEGER NOT NULL REFERENCES digest_subscriptions(id) ON DELETE CASCADE,
        chat_id         INTEGER NOT NULL,
        local_date      TEXT    NOT NULL,
        status          TEXT    NOT NULL CHECK (status IN ('pending', 'sending', 'sent', 'dropped')),
        content         TEXT    NOT NULL,
        parts_sent      INTEGER NOT NULL DEFAULT 0,
        message_ids     TEXT    NOT NULL DEFAULT '[]',
        attempts        INTEGER NOT NULL DEFAULT 0,
        retry_at        INTEGER NOT NULL,
        last_error      TEXT,
        chosen_at       INTEGER NOT NULL,
        sent_at         INTEGER,
        UNIQUE (subscription_id, local_date)
      );
      CREATE INDEX digest_deliveries_pending ON digest_deliveries (retry_at) WHERE status IN ('pending', 'sending');

      -- Passages a subscription has been given, per round. The key is the document and a
      -- hash of the passage text, so a re-ingest that shifts offsets does not make them new.
      CREATE TABLE digest_passages (
        subscription_id INTEGER NOT NULL REFERENCES digest_subscriptions(id) ON DELETE CASCADE,
        round           INTEGER NOT NULL,
        passage_key     TEXT    NOT NULL,
        delivery_id     INTEGER NOT NULL REFERENCES digest_deliveries(id) ON DELETE CASCADE,
        PRIMARY KEY (subscription_id, round, passage_key)
      );
      CREATE INDEX digest_passages_by_delivery ON digest_passages (delivery_id);

      -- Documents the digest has seen in the index and since when; those present at the
      -- first sync are the baseline, later ones are "新增文件" for a while.
      CREATE TABLE digest_documents (
        file          TEXT    PRIMARY KEY,
        checksum      TEXT    NOT NULL,
        first_seen_at INTEGER NOT NULL,
        baseline      INTEGER NOT NULL
      );

      -- /digest previews (not counted as the day's digest), kept so their excerpt buttons
      -- work after a restart.
      CREATE TABLE digest_previews (
        id         INTEGER PRIMARY KEY AUTOINCREMENT,
        chat_id    INTEGER NOT NULL,
        content    TEXT    NOT NULL,
        created_at INTEGER NOT NULL
      );
    `,
  },
  {
    id: '003-update-journal',
    up: `
      -- Updates taken from Telegram and not yet handled (update-journal.ts): written on
      -- arrival, deleted when handled, replayed at the next start.
      CREATE TABLE pending_updates (
        update_id   INTEGER PRIMARY KEY,
        body        TEXT    NOT NULL,
        attempts    INTEGER NOT NULL DEFAULT 1,
        received_at INTEGER NOT NULL
      );
    `,
  },
  {
    id: '004-digest-claims',
    up: `
      -- The instance sending a digest and until when its claim holds (digest-store.ts
      -- claimDelivery): with several instances on one PostgreSQL database only one sends
      -- it; kept here too so both engines run the same store code.
      ALTER TABLE digest_deliveries ADD COLUMN claimed_by TEXT;
      ALTER TABLE digest_deliveries ADD COLUMN claimed_until INTEGER;
    `,
  },
];

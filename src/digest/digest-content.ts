import * as z from 'zod';

/**
 * What a digest is: its scope, its items and its content, as the digest stage produces
 * them. The store keeps them (and checks them with these schemas when it reads them back);
 * this file depends on nothing else of the project, so the store can use it without a cycle.
 */

/** A subscription limited to one district or one document. */
export interface DigestScope {
  kind: 'district' | 'document';
  /** The district's name or the document's file. */
  value: string;
  /** How the user sees it ("津南区", "《…政府工作报告》"). */
  label: string;
}

export const digestItemSchema = z.object({
  n: z.number().int().positive(),
  /** Document and a hash of the passage text: what "already sent" is keyed on. */
  passageKey: z.string(),
  chunkId: z.string(),
  file: z.string(),
  title: z.string(),
  district: z.string(),
  section: z.string(),
  /** One line: the model's verified summary, or the passage's leading sentence. */
  summary: z.string(),
  /** The whole passage, verbatim (a table row: the rebuilt row, then the row as printed). */
  excerpt: z.string(),
  /** The cited span inside `excerpt` (UTF-16 offsets): verbatim document text. */
  quote: z.tuple([z.number().int(), z.number().int()]),
  /** From a document first seen recently ("新增文件"). */
  isNew: z.boolean(),
  mode: z.enum(['extractive', 'llm']),
  /** An indicator-table row's figures as printed (for the digest's chart); absent for prose. */
  indicator: z
    .object({ name: z.string(), unit: z.string().optional(), attribute: z.string().optional(), values: z.array(z.object({ column: z.string(), value: z.string() })) })
    .optional(),
});
export type DigestItem = z.infer<typeof digestItemSchema>;

export const digestContentSchema = z.object({
  topic: z.string(),
  scopeLabel: z.string().optional(),
  /** The local date the digest is for ("2026-01-05"). */
  localDate: z.string(),
  round: z.number().int().positive(),
  items: z.array(digestItemSchema),
  /** Relevant passages the topic has in its scope. */
  poolSize: z.number().int().nonnegative(),
  /** This digest begins a new round (the previous one used up the topic's passages). */
  roundStarted: z.boolean(),
  /** After this digest every relevant passage has been sent in this round. */
  roundEnded: z.boolean(),
  /** Sent for a day that passed while the bot was down. */
  catchUp: z.boolean(),
  /** A /digest preview, not the day's digest. */
  preview: z.boolean(),
});
export type DigestContent = z.infer<typeof digestContentSchema>;

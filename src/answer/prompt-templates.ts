import { readFileSync } from 'node:fs';
import path from 'node:path';
import { ConfigError } from '../errors.ts';
import { PROJECT_DIR } from '../project-files.ts';

/**
 * Prompt text lives in `prompts/*.md`. Each file declares the placeholders it uses in a
 * small front matter:
 *
 *     ---
 *     placeholders: passages, question
 *     ---
 *     …text with {{passages}} and {{question}}…
 *
 * A template is checked when it is loaded (at start-up, when the LLM writer is built): the
 * declared placeholders must be exactly the ones the code fills in and exactly the ones
 * the text uses. Rendering is one pass, so a value that itself contains `{{…}}` (a user's
 * question, a passage) is inserted as it is and never expanded.
 */

/** The repository's prompts/, also for the compiled code: editing a prompt needs no build. */
export const DEFAULT_PROMPTS_DIR = path.join(PROJECT_DIR, 'prompts');

const PLACEHOLDER = /\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}/g;
const FRONT_MATTER = /^---\r?\n([\s\S]*?)\r?\n---\r?\n?/;

export class PromptTemplate<K extends string> {
  constructor(
    readonly name: string,
    readonly placeholders: readonly K[],
    private readonly body: string,
  ) {}

  render(values: Readonly<Record<K, string>>): string {
    return this.body.replace(PLACEHOLDER, (_, key: string) => values[key as K]);
  }
}

function problem(name: string, what: string): ConfigError {
  return new ConfigError(`prompts: ${name}: ${what}`);
}

/** Parses and checks one template's text; `expected` are the placeholders the code fills in. */
export function parsePromptTemplate<K extends string>(name: string, text: string, expected: readonly K[]): PromptTemplate<K> {
  const fm = FRONT_MATTER.exec(text);
  if (!fm) throw problem(name, 'missing front matter (a first block "---\\nplaceholders: a, b\\n---")');
  const fields = new Map<string, string>();
  for (const line of fm[1]!.split(/\r?\n/)) {
    if (line.trim() === '' || line.trim().startsWith('#')) continue;
    const m = /^([A-Za-z_]+)\s*:\s*(.*)$/.exec(line.trim());
    if (!m) throw problem(name, `front matter line not understood: "${line.trim()}"`);
    fields.set(m[1]!, m[2]!.trim());
  }
  if (!fields.has('placeholders')) throw problem(name, 'front matter has no "placeholders:" line (write "placeholders:" with nothing after it for none)');
  const declared = fields
    .get('placeholders')!
    .replace(/^\[|\]$/g, '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const body = text.slice(fm[0].length).trim();
  const used = new Set([...body.matchAll(PLACEHOLDER)].map((m) => m[1]!));

  const errors: string[] = [];
  for (const d of declared) if (!(expected as readonly string[]).includes(d)) errors.push(`declares {{${d}}}, which the code does not fill in`);
  for (const e of expected) if (!declared.includes(e)) errors.push(`does not declare {{${e}}}, which the code fills in`);
  for (const d of declared) if (!used.has(d)) errors.push(`declares {{${d}}} but its text never uses it`);
  for (const u of used) if (!declared.includes(u)) errors.push(`uses {{${u}}} without declaring it`);
  const stray = body.replace(PLACEHOLDER, '');
  if (/\{\{|\}\}/.test(stray)) errors.push('has a malformed placeholder (use {{name}} with letters, digits and _)');
  if (body.length === 0) errors.push('is empty');
  if (errors.length > 0) throw problem(name, errors.join('; '));
  return new PromptTemplate(name, expected, body);
}

/** Reads `<dir>/<name>.md` synchronously (start-up only) and checks it. */
export function loadPromptTemplate<K extends string>(dir: string, name: string, expected: readonly K[]): PromptTemplate<K> {
  const file = path.join(dir, `${name}.md`);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw problem(`${name}.md`, `cannot be read from ${dir} (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  return parsePromptTemplate(`${name}.md`, text, expected);
}

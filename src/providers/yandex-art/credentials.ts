import { readFile, stat } from 'node:fs/promises';
import { z } from 'zod';
import { readableByOthers, readableFileAdvice } from '../../util/private-files.js';

/**
 * Where the YandexART credentials come from: `data/ydart-options.json` in upstream's format
 * (`{"folder_id","api_key"}`), else the environment. An API key is sent as `Api-Key <key>`,
 * an IAM token as `Bearer <token>` (`../shared/provider-apis.md` 1.2). No message built here
 * ever carries a credential's value: only which one is missing or malformed.
 */
export interface Credentials {
  readonly folderId: string;
  /** The API key or IAM token: a secret. */
  readonly secret: string;
  readonly scheme: 'Api-Key' | 'Bearer';
  /** Where they were read, for messages: the file's path or "the environment". */
  readonly source: string;
}

export type CredentialsState = { readonly ok: true; readonly credentials: Credentials } | { readonly ok: false; readonly reason: string };

export interface CredentialSourceOptions {
  /** `<data>/ydart-options.json`. */
  readonly file: string;
  readonly environment: Readonly<Record<string, string | undefined>>;
}

const fileSchema = z.object({
  folder_id: z.string().trim().min(1),
  api_key: z.string().trim().min(1).optional(),
  /** Not in upstream's file; accepted so a token can live beside the folder id too. */
  iam_token: z.string().trim().min(1).optional(),
});

/**
 * Reads the credentials. The file wins when it exists: it is upstream's place for them, and
 * it can be changed without a restart (the provider notices through {@link stamp}).
 */
export class CredentialSource {
  constructor(private readonly options: CredentialSourceOptions) {}

  get file(): string {
    return this.options.file;
  }

  /** A cheap fingerprint of the file (one stat): it changes when the file is written, replaced or removed. */
  async stamp(): Promise<string> {
    try {
      const info = await stat(this.options.file);
      return `${info.ino}:${info.size}:${info.mtimeMs}:${info.ctimeMs}`;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      return code === 'ENOENT' || code === 'ENOTDIR' ? 'absent' : `unreadable:${code ?? 'unknown'}`;
    }
  }

  /**
   * A warning when other users of the machine can read the file. The owner wrote it, so it
   * is not chmod-ed here: the warning says what to run.
   */
  async privacyWarning(): Promise<string | undefined> {
    const mode = await readableByOthers(this.options.file);
    return mode === undefined ? undefined : readableFileAdvice(this.options.file, 'the YandexART credentials', mode);
  }

  async load(): Promise<CredentialsState> {
    let text: string | undefined;
    try {
      text = await readFile(this.options.file, 'utf8');
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT' && code !== 'ENOTDIR') return { ok: false, reason: `cannot read ${this.options.file} (${code ?? 'error'})` };
    }
    return text === undefined ? this.fromEnvironment() : this.fromFileText(text);
  }

  private fromFileText(text: string): CredentialsState {
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch {
      // The parser's message may quote the file's text, which holds the key: not repeated here.
      return { ok: false, reason: `${this.options.file} is not valid JSON; expected {"folder_id": "...", "api_key": "..."}` };
    }
    const parsed = fileSchema.safeParse(raw);
    if (!parsed.success) {
      return { ok: false, reason: `${this.options.file}: expected {"folder_id": "...", "api_key": "..."} with non-empty strings` };
    }
    const { folder_id: folderId, api_key: apiKey, iam_token: iamToken } = parsed.data;
    if (apiKey !== undefined) return { ok: true, credentials: { folderId, secret: apiKey, scheme: 'Api-Key', source: this.options.file } };
    if (iamToken !== undefined) return { ok: true, credentials: { folderId, secret: iamToken, scheme: 'Bearer', source: this.options.file } };
    return { ok: false, reason: `${this.options.file} has a folder_id but no api_key` };
  }

  private fromEnvironment(): CredentialsState {
    const env = this.options.environment;
    const folderId = nonEmpty(env.YANDEX_FOLDER_ID);
    const apiKey = nonEmpty(env.YANDEX_API_KEY);
    const iamToken = nonEmpty(env.YANDEX_IAM_TOKEN);
    if (folderId === undefined && apiKey === undefined && iamToken === undefined) {
      return {
        ok: false,
        reason: `no credentials: put {"folder_id": "...", "api_key": "..."} in ${this.options.file}, or set YANDEX_FOLDER_ID and YANDEX_API_KEY (or YANDEX_IAM_TOKEN)`,
      };
    }
    if (folderId === undefined) return { ok: false, reason: 'YANDEX_API_KEY or YANDEX_IAM_TOKEN is set but YANDEX_FOLDER_ID is not' };
    // An API key does not expire; an IAM token lasts at most 12 hours, so the key is preferred.
    if (apiKey !== undefined) return { ok: true, credentials: { folderId, secret: apiKey, scheme: 'Api-Key', source: 'the environment' } };
    if (iamToken !== undefined) return { ok: true, credentials: { folderId, secret: iamToken, scheme: 'Bearer', source: 'the environment' } };
    return { ok: false, reason: 'YANDEX_FOLDER_ID is set but neither YANDEX_API_KEY nor YANDEX_IAM_TOKEN is' };
  }
}

function nonEmpty(value: string | undefined): string | undefined {
  const trimmed = value?.trim();
  return trimmed === undefined || trimmed === '' ? undefined : trimmed;
}

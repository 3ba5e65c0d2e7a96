import { join, resolve, isAbsolute } from 'node:path';
import { parseDocument } from 'yaml';
import type { z } from 'zod';
import type { AppConfig, LogLevel } from './app-config.js';
import { ConfigError } from './config-error.js';
import { DEFAULT_OPTIONS_FILE } from './default-options-file.js';
import { KNOWN_KEYS, optionsSchema, type RawOptions } from './options-schema.js';
import { providerRulesSchema } from './rules-schema.js';
import type { ProviderRules } from '../operations/provider-gate.js';
import type { StartupOptions } from './startup-options.js';
import { writeFileAtomic } from '../util/atomic-write.js';
import { ensurePrivateFolder, folderOpenToOthers, openFolderAdvice, readableByOthers, readableFileAdvice } from '../util/private-files.js';
import { readTextIfExists } from '../util/read-if-exists.js';
import { DEFAULT_JPEG_QUALITY } from '../render/render-for-frame.js';

export interface LoadedConfig {
  readonly config: AppConfig;
  /** Lines to log once a logger exists (unknown keys, a file written for the first time). */
  readonly notices: readonly { level: 'info' | 'warn'; message: string }[];
}

const LOG_LEVEL: Record<RawOptions['log_level'], LogLevel> = {
  DEBUG: 'debug',
  INFO: 'info',
  WARNING: 'warn',
  ERROR: 'error',
};

/**
 * Reads `<data>/options.yml` (writing the commented default first if it is missing),
 * validates it once, and returns the configuration. Any mistake throws a {@link ConfigError}
 * whose message is one line naming the file, the key, and what is expected.
 */
export async function loadConfig(startup: StartupOptions): Promise<LoadedConfig> {
  const notices: { level: 'info' | 'warn'; message: string }[] = [];
  // Tokens and keys live in data/: a folder we make is owner-only; one the owner made is theirs.
  await ensurePrivateFolder(startup.dataDir);
  const file = join(startup.dataDir, 'options.yml');
  let text = await readTextIfExists(file);
  if (text === undefined) {
    // Owner-only from the start: this is the file an admin_token or an api_key gets pasted into.
    await writeFileAtomic(file, DEFAULT_OPTIONS_FILE, { mode: 0o600 });
    notices.push({ level: 'info', message: `wrote the default options to ${file}` });
    text = DEFAULT_OPTIONS_FILE;
  }
  const raw = parseOptionsText(text, file);
  for (const key of unknownKeys(raw)) {
    notices.push({ level: 'warn', message: `${file}: unknown key "${key}" is ignored` });
  }
  const options = validateOptions(raw, file);
  notices.push(...(await privacyNotices(startup.dataDir, file, secretsIn(options))));
  return { config: toAppConfig(options, startup, file, parseProviderRules(options, file)), notices };
}

/** Keys whose values are secrets, in a provider's section. */
const SECRET_PROVIDER_KEYS: readonly string[] = ['api_key', 'password', 'iam_token', 'token'];

/** What secrets options.yml holds, by key (`admin_token`, `providers.openai.api_key`). */
function secretsIn(options: RawOptions): string[] {
  const keys = options.admin_token === undefined ? [] : ['admin_token'];
  for (const [id, section] of Object.entries(options.providers)) {
    for (const key of SECRET_PROVIDER_KEYS) if (section?.[key] !== undefined) keys.push(`providers.${id}.${key}`);
  }
  return keys;
}

/**
 * Warnings, never a chmod: a folder or file the owner made keeps its mode (another program,
 * a backup, a second account may rely on it), but the owner learns what others can read.
 */
async function privacyNotices(dataDir: string, file: string, secrets: readonly string[]): Promise<{ level: 'warn'; message: string }[]> {
  const notices: { level: 'warn'; message: string }[] = [];
  const folderMode = await folderOpenToOthers(dataDir);
  if (folderMode !== undefined) notices.push({ level: 'warn', message: openFolderAdvice(dataDir, folderMode) });
  const fileMode = secrets.length === 0 ? undefined : await readableByOthers(file);
  if (fileMode !== undefined) notices.push({ level: 'warn', message: readableFileAdvice(file, secrets.join(', '), fileMode) });
  return notices;
}

export function parseOptionsText(text: string, file: string): Record<string, unknown> {
  const document = parseDocument(text, { prettyErrors: false });
  const firstError = document.errors[0];
  if (firstError) {
    const where = firstError.linePos?.[0];
    const position = where ? ` (line ${where.line}, column ${where.col})` : '';
    throw new ConfigError(`${file}: not valid YAML${position}: ${firstError.message.split('\n')[0]}`);
  }
  const value: unknown = document.toJS();
  if (value === null || value === undefined) return {};
  if (typeof value !== 'object' || Array.isArray(value)) {
    throw new ConfigError(`${file}: expected a mapping of option names to values at the top level`);
  }
  return value as Record<string, unknown>;
}

export function validateOptions(raw: Record<string, unknown>, file: string): RawOptions {
  const result = optionsSchema.safeParse(raw);
  if (!result.success) {
    throw new ConfigError(describeIssue(result.error.issues[0], raw, file));
  }
  const options = result.data;
  if (options.image_amount_min >= options.image_amount_max) {
    throw new ConfigError(
      `${file}: image_amount_min: expected less than image_amount_max (${options.image_amount_max}), got ${options.image_amount_min}`,
    );
  }
  return options;
}

function describeIssue(issue: z.core.$ZodIssue | undefined, raw: Record<string, unknown>, file: string): string {
  if (!issue) return `${file}: invalid options`;
  const key = issue.path.map(String).join('.') || '(top level)';
  // A token, even a refused one, is a secret: the message names the key, never the value.
  const got = issue.path[0] === 'admin_token' ? '' : describeGot(valueAt(raw, issue.path));
  return `${file}: ${key}: ${issue.message}${got}`;
}

function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let current = root;
  for (const part of path) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<PropertyKey, unknown>)[part];
  }
  return current;
}

function unknownKeys(raw: Record<string, unknown>): string[] {
  const unknown: string[] = [];
  for (const [key, value] of Object.entries(raw)) {
    if (!KNOWN_KEYS.has(key)) {
      unknown.push(key);
    } else if (key === 'iframe_image_parameters' && value && typeof value === 'object') {
      for (const nested of Object.keys(value)) {
        if (!KNOWN_KEYS.has(`${key}.${nested}`)) unknown.push(`${key}.${nested}`);
      }
    }
  }
  return unknown;
}

/** The rules every provider section may hold (threshold, sleep hours, daily limit), validated here once. */
function parseProviderRules(options: RawOptions, file: string): Map<string, ProviderRules> {
  const rules = new Map<string, ProviderRules>();
  for (const [id, section] of Object.entries(options.providers)) {
    const result = providerRulesSchema.safeParse(section ?? {});
    if (!result.success) {
      const issue = result.error.issues[0];
      const path = ['providers', id, ...(issue?.path ?? []).map(String)];
      throw new ConfigError(`${file}: ${path.join('.')}: ${issue?.message ?? 'invalid'}${describeGot(valueAt(options.providers, [id, ...(issue?.path ?? [])]))}`);
    }
    rules.set(id, {
      sleep: result.data.sleep_time.map((entry) => entry.time_range),
      ...(result.data.image_generate_threshold === undefined ? {} : { thresholdMinutes: result.data.image_generate_threshold }),
      ...(result.data.daily_limit === undefined ? {} : { dailyLimit: result.data.daily_limit }),
    });
  }
  return rules;
}

function describeGot(value: unknown): string {
  return value === undefined ? '' : `, got ${JSON.stringify(value)}`;
}

function toAppConfig(options: RawOptions, startup: StartupOptions, file: string, providerRules: Map<string, ProviderRules>): AppConfig {
  const frame = options.iframe_image_parameters;
  const imagesDir =
    startup.imagesDir ??
    (options.image_path === undefined
      ? resolve('./images')
      : isAbsolute(options.image_path)
        ? options.image_path
        : resolve(options.image_path));
  const providers: Record<string, Record<string, unknown>> = {};
  for (const [id, section] of Object.entries(options.providers)) providers[id] = section ?? {};
  return {
    host: startup.host,
    port: startup.port,
    paths: { dataDir: startup.dataDir, imagesDir, logDir: startup.logDir },
    optionsFile: file,
    logLevel: LOG_LEVEL[options.log_level],
    library: { minCount: options.image_amount_min, maxCount: options.image_amount_max },
    generateThresholdMinutes: options.image_generate_threshold,
    generationTimeoutMs: options.generation_timeout_minutes * 60_000,
    cron: { checkPending: options.check_pending_cron, scanImages: options.scan_image_cron },
    frame: {
      width: frame.image_weight ?? frame.image_width ?? options.image_weight ?? options.image_width ?? 320,
      height: frame.image_height ?? options.image_height ?? 480,
      fitMode: frame.fit_mode ?? 'auto',
      fitThreshold: frame.fit_threshold ?? 0.03,
      quality: frame.jpeg_quality ?? DEFAULT_JPEG_QUALITY,
    },
    promptsAmount: options.prompts_amount,
    providers,
    disabledProviders: options.disabled_providers,
    providerRules,
    quietHours: options.sleep_time.map((entry) => ({ range: entry.time_range, blackImage: entry.black_image_mode })),
    access: {
      allowedNetworks: options.allowed_networks,
      ...(options.admin_token === undefined ? {} : { adminToken: options.admin_token }),
    },
    ...(options.tls === undefined
      ? {}
      : { tls: { certFile: resolve(startup.dataDir, options.tls.cert), keyFile: resolve(startup.dataDir, options.tls.key), port: options.tls.port } }),
  };
}

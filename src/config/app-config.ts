import type { FrameProfile } from '../render/frame-profile.js';
import type { ProviderRules } from '../operations/provider-gate.js';
import type { TimeRange } from '../operations/time-range.js';

export interface QuietHours {
  readonly range: TimeRange;
  /** Show a black frame instead of a stored picture. */
  readonly blackImage: boolean;
}

export interface TlsOptions {
  readonly certFile: string;
  readonly keyFile: string;
  readonly port: number;
}

/** Who may reach the server, and the token that guards changes (see src/http/access). */
export interface AccessOptions {
  /** `admin_token` from options.yml, when set there. */
  readonly adminToken?: string;
  /** CIDR networks (or single addresses) whose clients may reach any route. */
  readonly allowedNetworks: readonly string[];
}

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

/** Where the server keeps its files and where it listens. From flags, the environment, or defaults. */
export interface ServerPaths {
  readonly dataDir: string;
  readonly imagesDir: string;
  readonly logDir: string;
}

/** The validated, normalised configuration every module receives. Read once at start-up. */
export interface AppConfig {
  readonly host: string;
  readonly port: number;
  readonly paths: ServerPaths;
  /** The options file this configuration was read from, for messages. */
  readonly optionsFile: string;
  readonly logLevel: LogLevel;
  readonly library: { readonly minCount: number; readonly maxCount: number };
  /** Minutes between provider calls for `auto` (upstream `image_generate_threshold`). */
  readonly generateThresholdMinutes: number;
  readonly generationTimeoutMs: number;
  readonly cron: { readonly checkPending: string; readonly scanImages: string };
  readonly frame: FrameProfile;
  readonly promptsAmount: number;
  /** Raw per-provider sections under `providers:`; each provider validates its own. */
  readonly providers: Readonly<Record<string, Readonly<Record<string, unknown>>>>;
  readonly disabledProviders: readonly string[];
  /** Rules from each `providers.<id>` section that apply whatever the provider. */
  readonly providerRules: ReadonlyMap<string, ProviderRules>;
  readonly quietHours: readonly QuietHours[];
  readonly tls?: TlsOptions;
  readonly access: AccessOptions;
}

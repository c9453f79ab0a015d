/**
 * S3Store settings: the options type, their defaults and validation, reading them from the
 * environment (`s3OptionsFromEnv`), layering several sources (`mergeS3Options`: code defaults <
 * environment < CLI flags < explicit code), and building the S3Client they describe.
 *
 * Invariants:
 * - Credentials come from the AWS SDK's default provider chain (environment, shared config and
 *   credentials files with profiles, SSO, web identity, container/instance metadata) unless given.
 * - Secrets never leave this module in readable form: `describeS3Options` (for logs and errors)
 *   prints only non-secret fields, and `secretsOf` lists the values `redactSecrets` must scrub.
 * - The SDK client's own retries are off (`maxAttempts: 1`); retry.ts applies Weir's policy, which
 *   must see every failure to resolve ambiguous commits (see retry.ts and put-if-absent.ts).
 */

import { Agent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import { S3Client, type S3ClientConfig } from '@aws-sdk/client-s3';
import { WeirError } from '@weir/storage';
import { DEFAULT_RETRY_POLICY, type RetryEvent, type RetryPolicy } from './retry.js';

export const MiB = 1024 * 1024;
/** S3's smallest allowed part (except the last). */
export const MIN_PART_SIZE = 5 * MiB;
/** S3's largest allowed part, and largest single PutObject. */
export const MAX_PART_SIZE = 5 * 1024 * MiB;

/** Static credentials. Prefer the default provider chain; these are for tests and embedding. */
export interface S3Credentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

/** A credentials provider in the SDK's shape (e.g. from `@aws-sdk/credential-providers`). */
export type S3CredentialsProvider = () => Promise<S3Credentials>;

/**
 * How `putIfAbsent` gets its atomicity.
 * - 'required' (default): one PutObject with `If-None-Match: *`. A server that answers that with
 *   501 NotImplemented, or that is found to ignore it (`verifyConditionalWrites`), makes the call
 *   fail with 'CONDITIONAL_WRITES_UNSUPPORTED'.
 * - 'single-writer-unsafe': HEAD, then a plain PutObject when the key is missing. NOT atomic: two
 *   writers can both "win" and one commit is silently lost. Only for stores without conditional
 *   writes where the caller guarantees a single writer per table.
 */
export type ConditionalWrites = 'required' | 'single-writer-unsafe';

export interface S3StoreOptions {
  bucket: string;
  /** Key prefix inside the bucket ('' = the whole bucket); leading and trailing '/' are ignored. */
  prefix?: string;
  /** e.g. 'http://127.0.0.1:7480'. Default: the SDK's (AWS, or AWS_ENDPOINT_URL[_S3]). */
  endpoint?: string;
  /** Default: the SDK's chain (AWS_REGION, profile); 'us-east-1' when a custom endpoint is given. */
  region?: string;
  /** Path-style URLs (`endpoint/bucket/key`). Default: true with a custom endpoint, else false. */
  forcePathStyle?: boolean;
  /** Default: the SDK's default provider chain. */
  credentials?: S3Credentials | S3CredentialsProvider;
  /** Shared-config profile for the default chain (like AWS_PROFILE). */
  profile?: string;
  /** Attempts per request, first included (default 8). */
  maxAttempts?: number;
  /** Backoff: first retry waits up to `baseDelayMs`, doubling up to `maxDelayMs` (full jitter). */
  retry?: Partial<Omit<RetryPolicy, 'maxAttempts'>>;
  /** Multipart part size in bytes (default 8 MiB, at least 5 MiB). Also the single-PUT threshold. */
  partSize?: number;
  /** Parts uploaded in parallel per store (default 4). */
  concurrency?: number;
  /** Default 'required'. See `ConditionalWrites`. */
  conditionalWrites?: ConditionalWrites;
  /**
   * With 'required': before the first commit in a bucket, check once (per client) that the server
   * really honours If-None-Match (conditional-writes-check.ts), so a server that silently ignores
   * it is refused instead of letting two writers overwrite each other. Default true.
   */
  verifyConditionalWrites?: boolean;
  /** TCP connect timeout (default 5 s). */
  connectTimeoutMs?: number;
  /** A request fails when its socket is idle this long (default 30 s). */
  socketTimeoutMs?: number;
  /** Sockets per client (default 64). */
  maxSockets?: number;
  /** Called before each retry (for logs/metrics). The event carries no secrets. */
  onRetry?: (event: RetryEvent) => void;
}

/** Options with every default applied, as S3Store uses them. */
export interface ResolvedS3StoreOptions {
  bucket: string;
  prefix: string;
  retry: RetryPolicy;
  partSize: number;
  concurrency: number;
  conditionalWrites: ConditionalWrites;
  verifyConditionalWrites: boolean;
  onRetry: ((event: RetryEvent) => void) | undefined;
}

export const DEFAULT_PART_SIZE = 8 * MiB;
export const DEFAULT_CONCURRENCY = 4;
export const DEFAULT_CONNECT_TIMEOUT_MS = 5_000;
export const DEFAULT_SOCKET_TIMEOUT_MS = 30_000;
export const DEFAULT_MAX_SOCKETS = 64;

function invalid(option: string, value: unknown, rule: string): WeirError {
  return new WeirError('INVALID_ARGUMENT', `invalid S3 option ${option}=${JSON.stringify(value)}: ${rule}`, {
    details: { option, value, rule },
  });
}

function positiveInt(option: string, value: number | undefined, fallback: number, min = 1): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value < min) throw invalid(option, value, `an integer >= ${min}`);
  return value;
}

/** Strips leading and trailing '/' and rejects '.'/'..'/empty segments in the middle. */
export function normalizePrefix(prefix: string | undefined): string {
  const trimmed = (prefix ?? '').replace(/^\/+|\/+$/g, '');
  if (trimmed === '') return '';
  for (const segment of trimmed.split('/')) {
    if (segment === '' || segment === '.' || segment === '..' || segment.includes('\0')) {
      throw invalid('prefix', prefix, "'/'-separated non-empty segments, none '.' or '..'");
    }
  }
  return trimmed;
}

/** Applies defaults and validates; throws WeirError 'INVALID_ARGUMENT' naming the option. */
export function resolveS3Options(options: S3StoreOptions): ResolvedS3StoreOptions {
  if (typeof options.bucket !== 'string' || options.bucket === '' || /[/\s]/.test(options.bucket)) {
    throw invalid('bucket', options.bucket, 'a bucket name (no "/" or spaces)');
  }
  const partSize = positiveInt('partSize', options.partSize, DEFAULT_PART_SIZE, MIN_PART_SIZE);
  if (partSize > MAX_PART_SIZE) throw invalid('partSize', partSize, `at most ${MAX_PART_SIZE} bytes`);
  const conditionalWrites = options.conditionalWrites ?? 'required';
  if (conditionalWrites !== 'required' && conditionalWrites !== 'single-writer-unsafe') {
    throw invalid('conditionalWrites', conditionalWrites, "'required' or 'single-writer-unsafe'");
  }
  const retry: RetryPolicy = {
    maxAttempts: positiveInt('maxAttempts', options.maxAttempts, DEFAULT_RETRY_POLICY.maxAttempts),
    baseDelayMs: positiveInt(
      'retry.baseDelayMs',
      options.retry?.baseDelayMs,
      DEFAULT_RETRY_POLICY.baseDelayMs,
      0,
    ),
    maxDelayMs: positiveInt(
      'retry.maxDelayMs',
      options.retry?.maxDelayMs,
      DEFAULT_RETRY_POLICY.maxDelayMs,
      0,
    ),
  };
  return {
    bucket: options.bucket,
    prefix: normalizePrefix(options.prefix),
    retry,
    partSize,
    concurrency: positiveInt('concurrency', options.concurrency, DEFAULT_CONCURRENCY),
    conditionalWrites,
    verifyConditionalWrites: options.verifyConditionalWrites ?? true,
    onRetry: options.onRetry,
  };
}

/** The subset of options that determines the S3Client (clients are shared by equal keys). */
export type S3ClientOptions = Pick<
  S3StoreOptions,
  | 'endpoint'
  | 'region'
  | 'forcePathStyle'
  | 'credentials'
  | 'profile'
  | 'connectTimeoutMs'
  | 'socketTimeoutMs'
  | 'maxSockets'
>;

/**
 * A new S3Client for these options, with the SDK's retries off (Weir retries, see retry.ts) and
 * keep-alive sockets. Call `client.destroy()` when done with it.
 */
export function createS3Client(options: S3ClientOptions): S3Client {
  const endpoint = options.endpoint;
  if (endpoint !== undefined) {
    let url: URL;
    try {
      url = new URL(endpoint);
    } catch {
      throw invalid('endpoint', redactUrl(endpoint), 'an http(s) URL');
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw invalid('endpoint', redactUrl(endpoint), 'an http(s) URL');
    }
  }
  const agentOptions = {
    keepAlive: true,
    maxSockets: positiveInt('maxSockets', options.maxSockets, DEFAULT_MAX_SOCKETS),
  };
  const config: S3ClientConfig = {
    maxAttempts: 1,
    forcePathStyle: options.forcePathStyle ?? endpoint !== undefined,
    requestHandler: {
      connectionTimeout: positiveInt(
        'connectTimeoutMs',
        options.connectTimeoutMs,
        DEFAULT_CONNECT_TIMEOUT_MS,
      ),
      socketTimeout: positiveInt('socketTimeoutMs', options.socketTimeoutMs, DEFAULT_SOCKET_TIMEOUT_MS),
      httpAgent: new Agent(agentOptions),
      httpsAgent: new HttpsAgent(agentOptions),
    },
  };
  if (endpoint !== undefined) config.endpoint = endpoint;
  const region = options.region ?? (endpoint !== undefined ? 'us-east-1' : undefined);
  if (region !== undefined) config.region = region;
  if (options.credentials !== undefined) config.credentials = options.credentials;
  if (options.profile !== undefined) config.profile = options.profile;
  return new S3Client(config);
}

/** Where the SDK would look for settings; `process.env` by default. */
export type Env = Readonly<Record<string, string | undefined>>;

function envFlag(name: string, value: string | undefined): boolean | undefined {
  if (value === undefined || value === '') return undefined;
  const v = value.toLowerCase();
  if (v === 'true' || v === '1' || v === 'yes') return true;
  if (v === 'false' || v === '0' || v === 'no') return false;
  throw invalid(name, value, 'true or false');
}

/**
 * S3 settings from environment variables, as the AWS CLI and SDKs name them:
 * AWS_ENDPOINT_URL_S3 (else AWS_ENDPOINT_URL), AWS_REGION (else AWS_DEFAULT_REGION), AWS_PROFILE,
 * AWS_MAX_ATTEMPTS, AWS_S3_FORCE_PATH_STYLE (true/false), and static credentials when both
 * AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are set (plus AWS_SESSION_TOKEN). Anything unset is
 * left out, so the SDK's default chain (shared config files, SSO, instance metadata...) fills it in.
 */
export function s3OptionsFromEnv(env: Env = process.env): Partial<S3StoreOptions> {
  const out: Partial<S3StoreOptions> = {};
  const endpoint = env.AWS_ENDPOINT_URL_S3 || env.AWS_ENDPOINT_URL;
  if (endpoint) out.endpoint = endpoint;
  const region = env.AWS_REGION || env.AWS_DEFAULT_REGION;
  if (region) out.region = region;
  if (env.AWS_PROFILE) out.profile = env.AWS_PROFILE;
  const pathStyle = envFlag('AWS_S3_FORCE_PATH_STYLE', env.AWS_S3_FORCE_PATH_STYLE);
  if (pathStyle !== undefined) out.forcePathStyle = pathStyle;
  if (env.AWS_MAX_ATTEMPTS) {
    const attempts = Number(env.AWS_MAX_ATTEMPTS);
    if (!Number.isSafeInteger(attempts) || attempts < 1) {
      throw invalid('AWS_MAX_ATTEMPTS', env.AWS_MAX_ATTEMPTS, 'an integer >= 1');
    }
    out.maxAttempts = attempts;
  }
  if (env.AWS_ACCESS_KEY_ID && env.AWS_SECRET_ACCESS_KEY) {
    out.credentials = {
      accessKeyId: env.AWS_ACCESS_KEY_ID,
      secretAccessKey: env.AWS_SECRET_ACCESS_KEY,
      ...(env.AWS_SESSION_TOKEN ? { sessionToken: env.AWS_SESSION_TOKEN } : {}),
    };
  }
  return out;
}

/** Later layers win; `undefined` values never override. E.g. `merge(fromEnv, fromFlags, inCode)`. */
export function mergeS3Options<T extends Partial<S3StoreOptions>>(
  ...layers: readonly (Partial<S3StoreOptions> | undefined)[]
): T {
  const out: Record<string, unknown> = {};
  for (const layer of layers) {
    if (layer === undefined) continue;
    for (const [name, value] of Object.entries(layer)) {
      if (value === undefined) continue;
      out[name] =
        name === 'retry' && typeof out.retry === 'object'
          ? { ...(out.retry as object), ...(value as object) }
          : value;
    }
  }
  return out as T;
}

/** Static secret values in the options (to scrub from any text that leaves the store). */
export function secretsOf(options: Pick<S3StoreOptions, 'credentials' | 'endpoint'>): string[] {
  const secrets: string[] = [];
  const creds = options.credentials;
  if (creds !== undefined && typeof creds !== 'function') {
    if (creds.secretAccessKey) secrets.push(creds.secretAccessKey);
    if (creds.sessionToken) secrets.push(creds.sessionToken);
  }
  if (options.endpoint !== undefined) {
    try {
      const url = new URL(options.endpoint);
      if (url.password) secrets.push(url.password, decodeURIComponent(url.password));
    } catch {
      // not a URL: nothing to extract (createS3Client rejects it anyway)
    }
  }
  return secrets.filter((s) => s.length >= 4);
}

/** Replaces every occurrence of each secret with '***', and URL passwords (`//user:pw@`). */
export function redactSecrets(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of secrets) out = out.split(secret).join('***');
  return out.replace(/(\/\/[^/\s:@]*:)[^@\s/]*@/g, '$1***@');
}

function redactUrl(url: string): string {
  return redactSecrets(url, []);
}

/** A one-line, secret-free description for logs: bucket, prefix, endpoint, region, credential source. */
export function describeS3Options(options: S3StoreOptions): string {
  const parts = [`s3://${options.bucket}${options.prefix ? `/${normalizePrefix(options.prefix)}` : ''}`];
  if (options.endpoint !== undefined) parts.push(`endpoint=${redactUrl(options.endpoint)}`);
  if (options.region !== undefined) parts.push(`region=${options.region}`);
  if (options.profile !== undefined) parts.push(`profile=${options.profile}`);
  const creds = options.credentials;
  parts.push(
    `credentials=${creds === undefined ? 'default-chain' : typeof creds === 'function' ? 'provider' : 'static'}`,
  );
  return parts.join(' ');
}

/**
 * FaultProxy: an HTTP proxy on 127.0.0.1 between the S3 SDK and a real server (radosgw) that
 * injects the failures S3 clients meet in production. Point the SDK's endpoint at `proxy.endpoint`;
 * requests are forwarded unchanged (the Host header too, so SigV4 signatures stay valid).
 *
 * Faults, chosen per request by scripted rules first (in order, each for `times` requests), then by
 * seeded probabilities:
 * - 'slowdown':      answer 503 SlowDown without forwarding (the request is NOT applied);
 * - 'error':         answer a given status/code without forwarding (e.g. 501 NotImplemented);
 * - 'reset':         reset the client connection without forwarding (NOT applied);
 * - 'delay':         wait `delayMs`, then forward normally;
 * - 'drop-response': forward, let the server answer in full, then destroy the client connection
 *                    without sending the answer (applied, but the client cannot know: the "lost
 *                    commit response" case);
 * - 'fake-ok':       answer 200 OK (with an ETag) without forwarding: what a server that ignores
 *                    `If-None-Match` says to a create of an existing key (NOT applied here).
 * Invariants: the upstream always sees either the whole request or nothing; every decision is
 * counted in `stats` and recorded in `log` (method, key, fault, upstream status) so tests can prove
 * a fault really happened; randomness comes from a seeded PRNG so a failing run can be replayed.
 */

import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export type FaultKind = 'slowdown' | 'error' | 'reset' | 'delay' | 'drop-response' | 'fake-ok';

export interface RequestInfo {
  method: string;
  /** Path and query as sent (path-style: /bucket/key?query). */
  url: string;
  /** Decoded object key without the bucket ('' for bucket-level requests). */
  key: string;
  /** The query string without '?' ('' for none). */
  query: string;
  headers: http.IncomingHttpHeaders;
}

export interface FaultRule {
  /** Which requests the rule applies to (all when omitted). */
  match?: (request: RequestInfo) => boolean;
  fault: FaultKind;
  /** Requests this rule fires for before it is used up (default 1). */
  times?: number;
  /** For 'delay' (default 200 ms). */
  delayMs?: number;
  /** For 'error': status and S3 error code (default 500 InternalError). */
  status?: number;
  code?: string;
}

export interface FaultProbabilities {
  slowdown?: number;
  reset?: number;
  delay?: number;
  dropResponse?: number;
}

export interface FaultProxyOptions {
  /** The real server, e.g. http://127.0.0.1:7480. */
  upstream: string;
  /** Per-request probabilities (sum <= 1); default none. */
  probabilities?: FaultProbabilities;
  /** Only requests matching this get random faults (default all). */
  randomFaultsFor?: (request: RequestInfo) => boolean;
  /** Delay range for random 'delay' faults (default [20, 200] ms). */
  delayMs?: readonly [number, number];
  /** PRNG seed (default: random; read it back from `seed`). */
  seed?: number;
}

export interface FaultLogEntry {
  method: string;
  key: string;
  /** The query string without '?' ('' for none), e.g. 'partNumber=3&uploadId=...'. */
  query: string;
  /** Request headers, minus the signature-bearing ones. */
  headers: http.IncomingHttpHeaders;
  fault: FaultKind | 'none';
  /** The upstream's status when the request was forwarded. */
  upstreamStatus?: number;
}

/** mulberry32: small, fast, seedable; good enough to pick faults. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function keyOf(url: string): string {
  const pathname = url.split('?')[0] ?? '';
  const slash = pathname.indexOf('/', 1);
  if (slash < 0) return '';
  try {
    return decodeURIComponent(pathname.slice(slash + 1));
  } catch {
    return pathname.slice(slash + 1);
  }
}

function s3ErrorXml(code: string, message: string): string {
  return `<?xml version="1.0" encoding="UTF-8"?><Error><Code>${code}</Code><Message>${message}</Message><RequestId>fault-proxy</RequestId></Error>`;
}

export class FaultProxy {
  readonly seed: number;
  /** Counts of each decision, 'none' included. */
  readonly stats: Record<FaultKind | 'none', number> = {
    none: 0,
    slowdown: 0,
    error: 0,
    reset: 0,
    delay: 0,
    'drop-response': 0,
    'fake-ok': 0,
  };
  readonly log: FaultLogEntry[] = [];
  /** Requests being forwarded right now, and the most seen at once since the last resetStats. */
  inFlight = 0;
  maxInFlight = 0;
  probabilities: FaultProbabilities;
  private readonly rules: (FaultRule & { left: number })[] = [];
  private readonly random: () => number;
  private readonly upstream: URL;
  private readonly agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
  private readonly sockets = new Set<Socket>();
  private server: http.Server | undefined;
  private port = 0;

  constructor(private readonly options: FaultProxyOptions) {
    this.upstream = new URL(options.upstream);
    this.seed = options.seed ?? Math.floor(Math.random() * 2 ** 31);
    this.random = prng(this.seed);
    this.probabilities = { ...options.probabilities };
  }

  /** http://127.0.0.1:<port> once started. */
  get endpoint(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async start(): Promise<this> {
    const server = http.createServer((req, res) => {
      // A throwing rule or a bug here must not take the test process down: the client sees a reset.
      this.handle(req, res).catch(() => req.socket.destroy());
    });
    server.keepAliveTimeout = 30_000;
    server.on('connection', (socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    this.server = server;
    this.port = (server.address() as AddressInfo).port;
    return this;
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    this.agent.destroy();
    const server = this.server;
    this.server = undefined;
    if (server !== undefined) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** Adds a scripted rule; rules fire before random faults, first match first. */
  addRule(rule: FaultRule): this {
    this.rules.push({ ...rule, left: rule.times ?? 1 });
    return this;
  }

  /** Scripted rules not yet used up. */
  get pendingRules(): number {
    return this.rules.filter((r) => r.left > 0).length;
  }

  resetStats(): void {
    for (const kind of Object.keys(this.stats) as (keyof FaultProxy['stats'])[]) this.stats[kind] = 0;
    this.log.length = 0;
    this.maxInFlight = this.inFlight;
  }

  private choose(info: RequestInfo): FaultRule | undefined {
    for (const rule of this.rules) {
      if (rule.left > 0 && (rule.match === undefined || rule.match(info))) {
        rule.left--;
        return rule;
      }
    }
    if (this.options.randomFaultsFor !== undefined && !this.options.randomFaultsFor(info)) return undefined;
    const p = this.probabilities;
    let x = this.random();
    const pick: [FaultKind, number | undefined][] = [
      ['slowdown', p.slowdown],
      ['reset', p.reset],
      ['drop-response', p.dropResponse],
      ['delay', p.delay],
    ];
    for (const [fault, probability] of pick) {
      if (probability === undefined || probability <= 0) continue;
      if (x < probability) {
        if (fault !== 'delay') return { fault };
        const [lo, hi] = this.options.delayMs ?? [20, 200];
        return { fault, delayMs: lo + Math.floor(this.random() * (hi - lo)) };
      }
      x -= probability;
    }
    return undefined;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = req.url ?? '/';
    const info: RequestInfo = {
      method: req.method ?? 'GET',
      url,
      key: keyOf(url),
      query: url.includes('?') ? url.slice(url.indexOf('?') + 1) : '',
      headers: req.headers,
    };
    const rule = this.choose(info);
    const fault = rule?.fault ?? 'none';
    this.stats[fault]++;
    const { authorization: _a, 'x-amz-security-token': _t, ...headers } = req.headers;
    const entry: FaultLogEntry = { method: info.method, key: info.key, query: info.query, headers, fault };
    this.log.push(entry);

    switch (fault) {
      case 'slowdown':
      case 'error': {
        const status = fault === 'slowdown' ? 503 : (rule?.status ?? 500);
        const code = fault === 'slowdown' ? 'SlowDown' : (rule?.code ?? 'InternalError');
        // Read the request body first so the client is not cut off mid-upload.
        req.resume();
        req.on('end', () => {
          const body = s3ErrorXml(code, `injected by FaultProxy`);
          res.writeHead(status, {
            'content-type': 'application/xml',
            'content-length': Buffer.byteLength(body),
          });
          res.end(body);
        });
        return;
      }
      case 'fake-ok':
        req.resume();
        req.on('end', () => {
          res.writeHead(200, { etag: '"00000000000000000000000000000000"', 'content-length': 0 });
          res.end();
        });
        return;
      case 'reset':
        req.socket.resetAndDestroy();
        return;
      case 'delay':
        await new Promise((resolve) => setTimeout(resolve, rule?.delayMs ?? 200));
        break;
      default:
        break;
    }
    this.forward(req, res, entry, fault === 'drop-response');
  }

  private forward(
    req: IncomingMessage,
    res: ServerResponse,
    entry: FaultLogEntry,
    dropResponse: boolean,
  ): void {
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    let counted = true;
    const done = (): void => {
      if (counted) this.inFlight--;
      counted = false;
    };
    res.on('close', done);
    const upstreamReq = http.request(
      {
        host: this.upstream.hostname,
        port: this.upstream.port,
        method: req.method,
        path: req.url,
        headers: req.headers,
        agent: this.agent,
      },
      (upstreamRes) => {
        if (upstreamRes.statusCode !== undefined) entry.upstreamStatus = upstreamRes.statusCode;
        if (dropResponse) {
          // Let the server finish (the write is applied), then vanish without answering.
          upstreamRes.resume();
          upstreamRes.on('end', () => req.socket.destroy());
          upstreamRes.on('error', () => req.socket.destroy());
          return;
        }
        res.writeHead(upstreamRes.statusCode ?? 502, upstreamRes.rawHeaders);
        upstreamRes.pipe(res);
        upstreamRes.on('error', () => res.destroy());
      },
    );
    upstreamReq.on('error', () => {
      // Upstream trouble becomes a reset for the client (never a fabricated answer).
      req.socket.destroy();
    });
    req.pipe(upstreamReq);
    req.on('error', () => upstreamReq.destroy());
    // A client that gives up (timeout) must not leave a half-sent request upstream.
    req.on('close', () => {
      if (!req.complete) upstreamReq.destroy();
    });
  }
}

/** Starts a FaultProxy in front of `upstream`. */
export async function startFaultProxy(options: FaultProxyOptions): Promise<FaultProxy> {
  return new FaultProxy(options).start();
}

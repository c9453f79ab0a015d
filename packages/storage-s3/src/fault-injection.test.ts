/**
 * S3Store under injected faults: a FaultProxy between the SDK and radosgw returns 503 SlowDown,
 * resets connections, delays requests and drops responses after the server applied them. First
 * each path of putIfAbsent's ambiguity resolution in isolation (scripted rules, the proxy's log
 * proving the fault happened), then the store-level proof: 200 commits under 10% mixed faults,
 * each key written exactly once with the right bytes, every call resolving correctly.
 */

import { randomUUID } from 'node:crypto';
import { AlreadyExistsError, listAll, type ObjectStore, WeirError } from '@weir/storage';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { CONDITIONAL_WRITE_CHECK_DIR } from './conditional-writes-check.js';
import { MiB, type S3StoreOptions } from './config.js';
import type { S3Store } from './s3-store.js';
import { type FaultProxy, type RequestInfo, startFaultProxy } from './testing/fault-proxy.js';
import { listMultipartUploads } from './testing/rgw-cluster.js';
import { describeS3, useRgwBucket } from './testing/rgw-suite.js';

const isCommitPut = (r: RequestInfo): boolean => r.method === 'PUT' && r.headers['if-none-match'] === '*';
const isGet = (r: RequestInfo): boolean => r.method === 'GET' && !r.query.includes('list-type');

/** A commit-like body: unique per call (a transaction id), about 1 KiB. */
function commitBody(key: string): Uint8Array {
  const json = JSON.stringify({ commitInfo: { key, txnId: randomUUID(), timestamp: Date.now() } });
  return new TextEncoder().encode(json.padEnd(1024, ' '));
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.compare(Buffer.from(a), Buffer.from(b)) === 0;
}

async function errorOf(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => undefined,
    (err: unknown) => err,
  );
}

describeS3('S3Store under injected faults (radosgw behind a FaultProxy)', () => {
  const rgw = useRgwBucket();
  let proxy: FaultProxy;
  let prefixes = 0;
  /** A store through the proxy and one straight to radosgw, on the same fresh prefix. */
  let faulty: S3Store;
  let direct: S3Store;
  const retryFast: Partial<S3StoreOptions> = { retry: { baseDelayMs: 2, maxDelayMs: 40 }, maxAttempts: 10 };

  beforeAll(async () => {
    // WEIR_FAULT_SEED replays a run (each run prints its seed).
    const seed = process.env.WEIR_FAULT_SEED ? Number(process.env.WEIR_FAULT_SEED) : undefined;
    proxy = await startFaultProxy({
      upstream: rgw.connection.endpoint,
      ...(seed === undefined ? {} : { seed }),
    });
  });
  afterAll(async () => {
    await proxy?.close();
  });
  /** A store through the proxy whose one-time conditional-write check is done (and not logged). */
  async function checked(store: S3Store): Promise<S3Store> {
    await store.checkConditionalWrites();
    proxy.resetStats();
    return store;
  }
  beforeEach(async () => {
    const prefix = `faults-${++prefixes}`;
    proxy.probabilities = {};
    faulty = await checked(rgw.store(prefix, { endpoint: proxy.endpoint, ...retryFast }));
    direct = rgw.store(prefix);
  });
  afterEach(() => {
    expect(proxy.pendingRules, 'every scripted fault fired').toBe(0);
  });

  describe('putIfAbsent, one fault at a time', () => {
    it('a response dropped after a successful commit PUT is resolved by reading back: success', async () => {
      proxy.addRule({ match: isCommitPut, fault: 'drop-response' });
      const body = commitBody('c');
      await faulty.putIfAbsent('_delta_log/00000000000000000001.json', body);
      expect(proxy.log.map((e) => [e.method, e.fault, e.upstreamStatus])).toEqual([
        ['PUT', 'drop-response', 200],
        ['GET', 'none', 200],
      ]);
      expect(sameBytes(await direct.get('_delta_log/00000000000000000001.json'), body)).toBe(true);
    });

    it('a dropped 412 for a key that already held other bytes resolves to AlreadyExists', async () => {
      const theirs = commitBody('theirs');
      await direct.putIfAbsent('k', theirs);
      proxy.addRule({ match: isCommitPut, fault: 'drop-response' });
      const err = await errorOf(faulty.putIfAbsent('k', commitBody('ours')));
      expect(err).toBeInstanceOf(AlreadyExistsError);
      expect(proxy.log[0]).toMatchObject({ fault: 'drop-response', upstreamStatus: 412 });
      expect(sameBytes(await direct.get('k'), theirs)).toBe(true);
    });

    it('a reset before the PUT was forwarded: read-back finds nothing, the PUT is sent again', async () => {
      proxy.addRule({ match: isCommitPut, fault: 'reset' });
      const body = commitBody('r');
      await faulty.putIfAbsent('k', body);
      expect(proxy.log.map((e) => [e.method, e.fault, e.upstreamStatus])).toEqual([
        ['PUT', 'reset', undefined],
        ['GET', 'none', 404],
        ['PUT', 'none', 200],
      ]);
      expect(sameBytes(await direct.get('k'), body)).toBe(true);
    });

    it('503 SlowDown three times, then success', async () => {
      const retries: number[] = [];
      const store = await checked(
        rgw.store(faulty.prefix, {
          endpoint: proxy.endpoint,
          ...retryFast,
          onRetry: (e) => retries.push(e.attempt),
        }),
      );
      retries.length = 0;
      proxy.addRule({ match: isCommitPut, fault: 'slowdown', times: 3 });
      await store.putIfAbsent('k', commitBody('s'));
      expect(proxy.stats.slowdown).toBe(3);
      expect(retries).toEqual([1, 2, 3]);
      expect(proxy.log.filter((e) => e.method === 'PUT').map((e) => e.upstreamStatus)).toEqual([
        undefined,
        undefined,
        undefined,
        200,
      ]);
    });

    it('after an ambiguous attempt, a 412 caused by our own earlier write is resolved as success', async () => {
      // The first PUT lands but its answer is lost; a stale read-back says "missing"; the re-sent
      // PUT gets 412 (from our own first write); reading back again finds our bytes.
      proxy.addRule({ match: isCommitPut, fault: 'drop-response' });
      proxy.addRule({ match: isGet, fault: 'error', status: 404, code: 'NoSuchKey' });
      const body = commitBody('own');
      await faulty.putIfAbsent('k', body);
      expect(proxy.log.map((e) => [e.method, e.fault, e.upstreamStatus])).toEqual([
        ['PUT', 'drop-response', 200],
        ['GET', 'error', undefined],
        ['PUT', 'none', 412],
        ['GET', 'none', 200],
      ]);
      expect(sameBytes(await direct.get('k'), body)).toBe(true);
    });

    it('when the outcome cannot be learned, fails with COMMIT_OUTCOME_UNKNOWN (never a false answer)', async () => {
      const store = await checked(
        rgw.store(faulty.prefix, {
          endpoint: proxy.endpoint,
          retry: { baseDelayMs: 1, maxDelayMs: 5 },
          maxAttempts: 3,
        }),
      );
      proxy.addRule({ match: isCommitPut, fault: 'drop-response' });
      proxy.addRule({ match: isGet, fault: 'reset', times: 3 });
      const err = await errorOf(store.putIfAbsent('k', commitBody('u')));
      expect(err).toBeInstanceOf(WeirError);
      expect((err as WeirError).code).toBe('COMMIT_OUTCOME_UNKNOWN');
      expect((err as WeirError).retryable).toBe(false);
      // It was in fact written: the caller must read to find out, as the error says.
      expect((await direct.head('k')).size).toBe(1024);
    });

    it('501 NotImplemented to If-None-Match fails with CONDITIONAL_WRITES_UNSUPPORTED, unretried', async () => {
      proxy.addRule({ match: isCommitPut, fault: 'error', status: 501, code: 'NotImplemented' });
      const err = await errorOf(faulty.putIfAbsent('k', commitBody('x')));
      expect(err).toBeInstanceOf(WeirError);
      expect((err as WeirError).code).toBe('CONDITIONAL_WRITES_UNSUPPORTED');
      expect((err as WeirError).message).toContain('single-writer-unsafe');
      expect(proxy.log).toHaveLength(1);
    });

    it('checks once per client that the server honours If-None-Match, then commits with one PUT each', async () => {
      const store = rgw.store(faulty.prefix, { endpoint: proxy.endpoint, ...retryFast });
      await store.putIfAbsent('a', commitBody('a'));
      await store.putIfAbsent('b', commitBody('b'));
      const probe = `${faulty.prefix}/${CONDITIONAL_WRITE_CHECK_DIR}/`;
      expect(
        proxy.log.map((e) => [e.method, e.key.startsWith(probe) ? 'probe' : e.key, e.upstreamStatus]),
      ).toEqual([
        ['PUT', 'probe', 200],
        ['PUT', 'probe', 412],
        ['DELETE', 'probe', 204],
        ['PUT', `${faulty.prefix}/a`, 200],
        ['PUT', `${faulty.prefix}/b`, 200],
      ]);
      expect(await listAll(direct, `${CONDITIONAL_WRITE_CHECK_DIR}/`)).toEqual([]);
    });

    it('a server that ignores If-None-Match is refused with CONDITIONAL_WRITES_UNSUPPORTED; nothing is committed', async () => {
      const isProbePut = (r: RequestInfo) => isCommitPut(r) && r.key.includes(CONDITIONAL_WRITE_CHECK_DIR);
      // The probe's first create goes through; its second is "accepted" as an ignoring server would.
      proxy.addRule({ match: isProbePut, fault: 'delay', delayMs: 0 });
      proxy.addRule({ match: isProbePut, fault: 'fake-ok' });
      const store = rgw.store(faulty.prefix, { endpoint: proxy.endpoint, ...retryFast });
      const err = await errorOf(store.putIfAbsent('_delta_log/00000000000000000000.json', commitBody('c')));
      expect(err).toBeInstanceOf(WeirError);
      expect((err as WeirError).code).toBe('CONDITIONAL_WRITES_UNSUPPORTED');
      expect((err as WeirError).message).toMatch(/ignores conditional writes.*single-writer-unsafe/);
      expect(await listAll(direct, '')).toEqual([]);
      // Not remembered as a pass: the next commit checks again (and, with a real server, passes).
      await store.putIfAbsent('_delta_log/00000000000000000000.json', commitBody('c'));
      expect(
        proxy.log.filter((e) => e.key.includes(CONDITIONAL_WRITE_CHECK_DIR) && e.method === 'PUT'),
      ).toHaveLength(4);
    });

    it("'single-writer-unsafe' uses HEAD then a plain PUT, and still reports existing keys", async () => {
      const store = rgw.store(faulty.prefix, {
        endpoint: proxy.endpoint,
        ...retryFast,
        conditionalWrites: 'single-writer-unsafe',
      });
      await store.putIfAbsent('k', commitBody('1'));
      expect(proxy.log.map((e) => [e.method, e.headers['if-none-match']])).toEqual([
        ['HEAD', undefined],
        ['PUT', undefined],
      ]);
      proxy.resetStats();
      expect(await errorOf(store.putIfAbsent('k', commitBody('2')))).toBeInstanceOf(AlreadyExistsError);
      expect(proxy.log.map((e) => e.method)).toEqual(['HEAD']);
    });

    it('never retries a 403', async () => {
      proxy.addRule({ match: isCommitPut, fault: 'error', status: 403, code: 'AccessDenied' });
      const err = await errorOf(faulty.putIfAbsent('k', commitBody('x')));
      expect((err as WeirError).code).toBe('ACCESS_DENIED');
      expect(proxy.log).toHaveLength(1);
    });
  });

  describe('reads and uploads under faults', () => {
    it('a GET that keeps failing ends in STORE_UNAVAILABLE (retryable) after maxAttempts', async () => {
      await direct.put('k', commitBody('k'));
      proxy.addRule({ match: isGet, fault: 'slowdown', times: 10 });
      const err = await errorOf(faulty.get('k'));
      expect((err as WeirError).code).toBe('STORE_UNAVAILABLE');
      expect((err as WeirError).retryable).toBe(true);
      expect((err as WeirError).details).toMatchObject({ attempts: 10, status: 503, s3Code: 'SlowDown' });
    });

    it('lost answers to CreateMultipartUpload and CompleteMultipartUpload leave no trace', async () => {
      const store = rgw.store(faulty.prefix, { endpoint: proxy.endpoint, ...retryFast, partSize: 5 * MiB });
      const isCreate = (r: RequestInfo): boolean =>
        r.method === 'POST' && /(^|&)uploads(=|&|$)/.test(r.query);
      const isComplete = (r: RequestInfo): boolean => r.method === 'POST' && r.query.includes('uploadId=');
      proxy.addRule({ match: isCreate, fault: 'drop-response' });
      proxy.addRule({ match: isComplete, fault: 'drop-response' });
      const data = new Uint8Array(11 * MiB).map((_, i) => (i * 7) & 0xff);
      await store.put('lost-answers.bin', data);
      expect(proxy.log.filter((e) => e.fault === 'drop-response').map((e) => e.upstreamStatus)).toEqual([
        200, 200,
      ]);
      expect(sameBytes(await direct.get('lost-answers.bin'), data)).toBe(true);
      expect(await listMultipartUploads(rgw.client, rgw.bucket, store.prefix)).toEqual([]);
    });

    it('20 MiB multipart uploads survive 10% faults and leave no upload behind', async () => {
      const store = rgw.store(faulty.prefix, { endpoint: proxy.endpoint, ...retryFast, partSize: 5 * MiB });
      proxy.probabilities = { slowdown: 0.03, reset: 0.03, dropResponse: 0.03, delay: 0.01 };
      const data = new Uint8Array(20 * MiB + 3).map((_, i) => (i * 31) & 0xff);
      async function* source(): AsyncGenerator<Uint8Array> {
        for (let o = 0; o < data.byteLength; o += MiB) yield data.slice(o, o + MiB);
      }
      for (let round = 0; round < 3; round++) await store.put(`data/${round}.bin`, source());
      proxy.probabilities = {};
      for (let round = 0; round < 3; round++) {
        expect(sameBytes(await direct.get(`data/${round}.bin`), data)).toBe(true);
      }
      expect(await listMultipartUploads(rgw.client, rgw.bucket, store.prefix)).toEqual([]);
    });
  });

  describe('200 commits under 10% mixed faults', () => {
    it('writes every key exactly once with the right bytes; AlreadyExists only where a key existed', async () => {
      const ITERATIONS = 200;
      const WORKERS = 4;
      // Keys that exist before the run (written straight to radosgw).
      const preexisting = new Map<string, Uint8Array>();
      for (let i = 0; i < ITERATIONS; i += 10) {
        const key = `_delta_log/pre-${String(i).padStart(4, '0')}.json`;
        const body = commitBody(key);
        await direct.putIfAbsent(key, body);
        preexisting.set(key, body);
      }
      proxy.probabilities = { slowdown: 0.03, reset: 0.03, dropResponse: 0.03, delay: 0.01 };
      proxy.resetStats();
      // On top of the random faults, a few of each kind for certain (whatever the seed), lost
      // answers to applied commits above all.
      proxy.addRule({
        match: (r) => isCommitPut(r) && !r.key.includes('/pre-'),
        fault: 'drop-response',
        times: 5,
      });
      proxy.addRule({ match: isCommitPut, fault: 'reset', times: 2 });
      proxy.addRule({ match: isCommitPut, fault: 'slowdown', times: 2 });
      proxy.addRule({ match: isCommitPut, fault: 'delay', delayMs: 300, times: 2 });

      const written = new Map<string, Uint8Array>();
      const outcomes: { i: number; key: string; expected: string; got: string }[] = [];
      const record = async (i: number, key: string, expected: string, call: Promise<void>): Promise<void> => {
        const t0 = Date.now();
        const err = await errorOf(call);
        if (Date.now() - t0 > 500) console.info('SLOW', i, key, Date.now() - t0);
        const got = err === undefined ? 'ok' : err instanceof WeirError ? err.code : String(err);
        outcomes.push({ i, key, expected, got });
      };
      let next = 0;
      await Promise.all(
        Array.from({ length: WORKERS }, async () => {
          for (let i = next++; i < ITERATIONS; i = next++) {
            if (i % 10 === 0) {
              // A commit racing a version someone else already wrote: must lose.
              const key = `_delta_log/pre-${String(i).padStart(4, '0')}.json`;
              await record(i, key, 'ALREADY_EXISTS', faulty.putIfAbsent(key, commitBody(key)));
              continue;
            }
            const key = `_delta_log/${String(i).padStart(20, '0')}.json`;
            const body = commitBody(key);
            await record(i, key, 'ok', faulty.putIfAbsent(key, body));
            written.set(key, body);
            if (i % 10 === 5) {
              // A second writer for a version this run already committed: must lose.
              await record(i, key, 'ALREADY_EXISTS', faulty.putIfAbsent(key, commitBody(`${key}-again`)));
            }
          }
        }),
      );
      proxy.probabilities = {};

      const wrong = outcomes.filter((o) => o.expected !== o.got);
      expect(wrong, `seed ${proxy.seed}`).toEqual([]);
      expect(outcomes).toHaveLength(ITERATIONS + ITERATIONS / 10);

      // Every fault kind really happened, including responses dropped after a commit was applied.
      const droppedCommits = proxy.log.filter(
        (e) => e.fault === 'drop-response' && e.method === 'PUT' && e.upstreamStatus === 200,
      ).length;
      const summary = { seed: proxy.seed, requests: proxy.log.length, ...proxy.stats, droppedCommits };
      console.info(`fault run: ${JSON.stringify(summary)}`);
      expect(proxy.stats.slowdown).toBeGreaterThan(0);
      expect(proxy.stats.reset).toBeGreaterThan(0);
      expect(proxy.stats['drop-response']).toBeGreaterThan(0);
      expect(proxy.stats.delay).toBeGreaterThan(0);
      expect(droppedCommits).toBeGreaterThanOrEqual(5);

      // The bucket holds exactly the expected objects with exactly the expected bytes.
      const expected = new Map([...preexisting, ...written]);
      const listed = await listAll(direct, '');
      expect(listed.map((m) => m.key)).toEqual([...expected.keys()].sort());
      for (const [key, body] of expected) expect(sameBytes(await direct.get(key), body), key).toBe(true);

      // Reads through the faults agree.
      proxy.probabilities = { slowdown: 0.03, reset: 0.03, dropResponse: 0.03, delay: 0.01 };
      const listedFaulty = await listAll(faulty as ObjectStore, '_delta_log/');
      expect(listedFaulty.map((m) => m.key)).toEqual(listed.map((m) => m.key));
      for (const key of [...written.keys()].slice(0, 50)) {
        expect(sameBytes(await faulty.get(key), written.get(key)!)).toBe(true);
      }
      proxy.probabilities = {};
    });
  });
});

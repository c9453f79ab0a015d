/**
 * The CLI on s3:// tables against a real S3 server (radosgw): every command that names a table
 * (create, write, scan, describe, history, files, checkpoint, optimize, vacuum, cleanup-log, sql,
 * tour --table) takes an s3:// URI; the endpoint comes from the global `--s3-endpoint` flag
 * (before or after the command) or AWS_ENDPOINT_URL, credentials from the standard AWS
 * environment. A store without conditional writes is refused unless --s3-unsafe-single-writer is
 * given. Errors never print credentials.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CONDITIONAL_WRITE_CHECK_DIR } from '@weir/storage-s3';
import { describeS3, type FaultProxy, startFaultProxy, useRgwBucket } from '@weir/storage-s3/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseNdjson, runCli } from '../support/cli.js';

describeS3('weir on s3:// tables', () => {
  const rgw = useRgwBucket();
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'weir-cli-s3-'));
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  function withEnv<T>(fn: () => Promise<T>): Promise<T> {
    const c = rgw.connection;
    const saved = { ...process.env };
    process.env.AWS_ACCESS_KEY_ID = c.accessKeyId;
    process.env.AWS_SECRET_ACCESS_KEY = c.secretAccessKey;
    process.env.AWS_REGION = 'us-east-1';
    delete process.env.AWS_ENDPOINT_URL;
    return fn().finally(() => {
      process.env = saved;
    });
  }

  it('create, write, scan, describe, history, files, checkpoint', async () => {
    await withEnv(async () => {
      const endpoint = rgw.connection.endpoint;
      const table = `s3://${rgw.bucket}/tables/events`;
      const input = path.join(tmp, 'events.ndjson');
      writeFileSync(
        input,
        Array.from({ length: 50 }, (_, i) =>
          JSON.stringify({ id: i, country: i % 2 ? 'DE' : 'FR', amount: `${i}.50` }),
        ).join('\n'),
      );
      const created = await runCli([
        '--s3-endpoint',
        endpoint,
        'create',
        table,
        '--schema',
        'id BIGINT, country STRING, amount DECIMAL(10,2)',
        '--partition-by',
        'country',
      ]);
      expect(created.stderr).toBe('');
      expect(created.code).toBe(0);
      const wrote = await runCli(['write', table, '--input', input, '--s3-endpoint', endpoint]);
      expect(wrote.stderr).toBe('');
      expect(wrote.code).toBe(0);
      const scan = await runCli(['scan', table, '--where', "country = 'DE'", '--s3-endpoint', endpoint]);
      expect(scan.code).toBe(0);
      const rows = parseNdjson(scan.stdout);
      expect(rows).toHaveLength(25);
      expect(rows.every((r) => r.country === 'DE')).toBe(true);
      const d = JSON.parse((await runCli(['describe', table, '--json', '--s3-endpoint', endpoint])).stdout);
      expect(d).toMatchObject({ version: 1, numRecords: 50, partitionColumns: ['country'] });
      const h = JSON.parse((await runCli(['history', table, '--json', '--s3-endpoint', endpoint])).stdout);
      expect(h.map((e: { version: number }) => e.version)).toEqual([1, 0]);
      const files = JSON.parse((await runCli(['files', table, '--json', '--s3-endpoint', endpoint])).stdout);
      expect(files).toHaveLength(2);
      const cp = await runCli(['checkpoint', table, '--s3-endpoint', endpoint]);
      expect(cp.code).toBe(0);
      const again = await runCli(['scan', table, '--s3-endpoint', endpoint]);
      expect(parseNdjson(again.stdout)).toHaveLength(50);
    });
  });

  it('a wrong secret is one clear line without the secret', async () => {
    await withEnv(async () => {
      process.env.AWS_SECRET_ACCESS_KEY = 'definitely-wrong-secret-value';
      const r = await runCli([
        '--s3-endpoint',
        rgw.connection.endpoint,
        'describe',
        `s3://${rgw.bucket}/tables/events`,
      ]);
      expect(r.code).toBe(1);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).not.toContain('definitely-wrong-secret-value');
      expect(r.stderr).not.toContain(rgw.connection.accessKeyId);
    });
  });

  async function ok(args: string[]): Promise<string> {
    const r = await runCli(args);
    if (r.code !== 0) throw new Error(`weir ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
    expect(r.stderr).toBe('');
    return r.stdout;
  }

  it('optimize, vacuum, cleanup-log, sql and tour on an s3:// table (endpoint from AWS_ENDPOINT_URL)', async () => {
    await withEnv(async () => {
      process.env.AWS_ENDPOINT_URL = rgw.connection.endpoint;
      const table = `s3://${rgw.bucket}/tables/small-files`;
      for (let i = 0; i < 4; i++) {
        const input = path.join(tmp, `small-${i}.ndjson`);
        writeFileSync(
          input,
          [0, 1, 2].map((j) => JSON.stringify({ id: i * 3 + j, day: `2024-05-0${1 + (j % 2)}` })).join('\n'),
        );
        await ok([
          'write',
          table,
          '--input',
          input,
          ...(i === 0 ? ['--schema', 'id BIGINT, day STRING', '--partition-by', 'day'] : []),
        ]);
      }
      const filesBefore = JSON.parse(await ok(['files', table, '--json']));
      expect(filesBefore).toHaveLength(8);

      // Time travel on S3: version 0 had 3 rows (the first write created the table).
      const v0 = parseNdjson(await ok(['scan', table, '--version', '0']));
      expect(v0).toHaveLength(3);
      // The tour (describe, history, a scan, time travel) on the S3 table.
      const tour = await ok(['tour', '--table', table]);
      expect(tour).toContain(table);
      const optimized = JSON.parse(await ok(['optimize', table, '--json']));
      expect(optimized).toMatchObject({ filesBefore: 8 });
      expect(JSON.parse(await ok(['files', table, '--json']))).toHaveLength(2);

      // Retention 0 (forced): the 8 compacted-away files are deleted from the bucket.
      const dry = await ok(['vacuum', table, '--retention-hours', '0', '--force', '--dry-run']);
      expect(dry).toMatch(/dry run: would delete 8 files/);
      const vacuumed = JSON.parse(await ok(['vacuum', table, '--retention-hours', '0', '--force', '--json']));
      expect(vacuumed.filesDeleted).toBe(8);
      const cleaned = JSON.parse(await ok(['cleanup-log', table, '--json']));
      expect(cleaned).toMatchObject({ dryRun: false, filesDeleted: 0 });

      const rows = parseNdjson(await ok(['scan', table]));
      expect(rows.map((r) => Number(r.id)).sort((a, b) => a - b)).toEqual(
        Array.from({ length: 12 }, (_, i) => i),
      );
      const counted = parseNdjson(
        await ok([
          'sql',
          'select day, count(*) as n from t group by day order by day',
          '--table',
          `t=${table}`,
          '--format',
          'ndjson',
        ]),
      );
      expect(counted.map((r) => [r.day, Number(r.n)])).toEqual([
        ['2024-05-01', 8],
        ['2024-05-02', 4],
      ]);
    });
  });

  it('takes credentials from a shared-config profile named by --s3-profile', async () => {
    await withEnv(async () => {
      const c = rgw.connection;
      const credentials = path.join(tmp, 'aws-credentials');
      writeFileSync(
        credentials,
        `[weir-test]\naws_access_key_id = ${c.accessKeyId}\naws_secret_access_key = ${c.secretAccessKey}\n`,
      );
      delete process.env.AWS_ACCESS_KEY_ID;
      delete process.env.AWS_SECRET_ACCESS_KEY;
      process.env.AWS_SHARED_CREDENTIALS_FILE = credentials;
      process.env.AWS_CONFIG_FILE = path.join(tmp, 'no-aws-config');
      const table = `s3://${rgw.bucket}/tables/events`;
      const flags = ['--s3-endpoint', c.endpoint];
      const d = JSON.parse(await ok([...flags, '--s3-profile', 'weir-test', 'describe', table, '--json']));
      expect(d).toMatchObject({ version: 1, numRecords: 50 });
      // Another profile has no keys: a clear error, not a hang or a stack.
      const missing = await runCli([...flags, '--s3-profile', 'nobody', 'describe', table]);
      expect(missing.code).toBe(1);
      expect(missing.stderr.trim().split('\n')).toHaveLength(1);
      expect(missing.stderr).not.toContain(c.secretAccessKey);
    });
  });

  describe('a store without conditional writes', () => {
    let proxy: FaultProxy;
    beforeAll(async () => {
      proxy = await startFaultProxy({ upstream: rgw.connection.endpoint });
    });
    afterAll(async () => {
      await proxy?.close();
    });

    it('a server that silently ignores If-None-Match is refused too (found by the one-time check)', async () => {
      await withEnv(async () => {
        const probePut = (r: { method: string; key: string; headers: Record<string, unknown> }) =>
          r.method === 'PUT' &&
          r.headers['if-none-match'] === '*' &&
          r.key.includes(CONDITIONAL_WRITE_CHECK_DIR);
        // The check's first create is forwarded; the second (of the same key) is "accepted".
        proxy.addRule({ match: probePut, fault: 'delay', delayMs: 0 });
        proxy.addRule({ match: probePut, fault: 'fake-ok' });
        const table = `s3://${rgw.bucket}/tables/ignoring`;
        const r = await runCli(['--s3-endpoint', proxy.endpoint, 'create', table, '--schema', 'id BIGINT']);
        expect(r.code).toBe(1);
        expect(r.stderr.trim().split('\n')).toHaveLength(1);
        expect(r.stderr).toMatch(/ignores conditional writes/);
        expect(r.stderr).toContain('--s3-unsafe-single-writer');
        expect(proxy.pendingRules).toBe(0);
      });
    });

    it('is refused with one clear line; --s3-unsafe-single-writer allows it', async () => {
      await withEnv(async () => {
        // Like S3 before conditional writes: PutObject with If-None-Match answers 501.
        proxy.addRule({
          match: (r) => r.method === 'PUT' && r.headers['if-none-match'] !== undefined,
          fault: 'error',
          status: 501,
          code: 'NotImplemented',
          times: 1000,
        });
        const table = `s3://${rgw.bucket}/tables/no-cas`;
        const args = ['create', table, '--schema', 'id BIGINT'];
        const refused = await runCli(['--s3-endpoint', proxy.endpoint, ...args]);
        expect(refused.code).toBe(1);
        expect(refused.stderr.trim().split('\n')).toHaveLength(1);
        expect(refused.stderr).toMatch(/conditional writes/);
        expect(refused.stderr).toContain('--s3-unsafe-single-writer');
        await ok(['--s3-endpoint', proxy.endpoint, '--s3-unsafe-single-writer', ...args]);
        const d = JSON.parse(await ok(['describe', table, '--json', '--s3-endpoint', proxy.endpoint]));
        expect(d).toMatchObject({ version: 0 });
      });
    });
  });
});

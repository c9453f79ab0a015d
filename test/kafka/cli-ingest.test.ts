/**
 * `weir ingest` as a command: usage errors, a JSON config file instead of flags, Prometheus
 * /metrics and /healthz while it runs, JSON logs off a terminal, a live status line on a
 * pseudo-terminal, and a graceful SIGTERM (exit 0, group left, everything committed).
 */
import { spawn, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { type AddressInfo, createServer } from 'node:net';
import path from 'node:path';
import { LocalStore } from '@weir/storage';
import { describe, expect, it } from 'vitest';
import { spawnCli, WEIR_BIN } from '../support/cli.js';
import { REPO_ROOT } from '../support/reference-tables.js';
import { startIngestProcess, stopGracefully, waitStarted, writeSchemaFile } from './ingest-processes.js';
import {
  createTopic,
  kafkajs,
  ORDER_SCHEMA,
  order,
  produce,
  storedTotal,
  useKafkaSuite,
  waitFor,
} from './support.js';

const suite = useKafkaSuite();

/** A loopback port nothing listens on (bound, then closed). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

describe('weir ingest (the command)', () => {
  it('explains itself and refuses bad usage with one line', () => {
    const help = spawnCli(['ingest', '--help']);
    expect(help.code).toBe(0);
    for (const flag of [
      '--brokers',
      '--topic',
      '--table',
      '--mode',
      '--epoch-ms',
      '--trigger-ms',
      '--schema',
      '--infer-schema',
      '--partition-by',
      '--dead-letter',
      '--metadata-columns',
      '--group',
      '--client',
      '--metrics-port',
      '--config',
    ]) {
      expect(help.stdout).toContain(flag);
    }
    const noBrokers = spawnCli(['ingest', '--topic', 't', '--table', '/tmp/x']);
    expect(noBrokers.code).toBe(1);
    expect(noBrokers.stderr.trim().split('\n')).toEqual([
      'weir: --brokers is required (host:port[,host:port...])',
    ]);
    const badMode = spawnCli([
      'ingest',
      '--brokers',
      'x:1',
      '--topic',
      't',
      '--table',
      '/tmp/x',
      '--mode',
      'fast',
    ]);
    expect(badMode.code).toBe(1);
    expect(badMode.stderr).toContain('--mode must be one of continuous, microbatch, got fast');
    const badMeta = spawnCli([
      'ingest',
      '--brokers',
      'x:1',
      '--topic',
      't',
      '--table',
      '/tmp/x',
      '--metadata-columns',
      'offset,colour',
    ]);
    expect(badMeta.stderr).toContain("unknown metadata column 'colour'");
  });

  it('runs from a config file, serves /metrics and /healthz, logs JSON, and stops on SIGTERM', async () => {
    const t = { dir: suite.dir('weir-cli-ingest-') };
    const topic = 'cli-orders';
    const kafka = kafkajs(suite.broker);
    await createTopic(kafka, topic, 2);
    await produce(
      kafka,
      topic,
      Array.from({ length: 3000 }, (_, i) => JSON.stringify(order(i))),
      { partitions: 2 },
    );
    const config = path.join(t.dir, 'ingest.json');
    writeFileSync(
      config,
      JSON.stringify({
        brokers: [suite.broker.bootstrap],
        topics: [topic],
        table: path.join(t.dir, 'table'),
        schema: writeSchemaFile(t.dir, ORDER_SCHEMA),
        metadataColumns: 'partition,offset',
        group: 'cli-group',
        epochMs: 100,
        metricsPort: 0,
        sessionTimeoutMs: 6000,
      }),
    );
    const proc = startIngestProcess(['--config', config, '--mode', 'continuous']);
    await waitStarted(proc);
    const table = new LocalStore(path.join(t.dir, 'table'));
    await waitFor('3000 rows', async () => (await storedTotal(table, 'cli-group', topic)) === 3000, 60_000);
    await waitFor('the metrics port', () => proc.events.some((e) => e.event === 'metrics'));
    const port = proc.events.find((e) => e.event === 'metrics')!.port as number;
    await waitFor('the commit counted', async () => {
      const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      return /weir_sink_rows_total 3000/.test(text);
    });
    const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    expect(metrics).toMatch(/weir_ingest_messages_total\{outcome="written"\} 3000/);
    expect(metrics).toMatch(/weir_ingest_dead_letters_total 0/);
    expect(metrics).toMatch(/weir_ingest_lag_messages\{topic="cli-orders",partition="0"\} 0/);
    expect(metrics).toMatch(/weir_ingest_visibility_seconds_count \d+/);
    expect(metrics).toMatch(/weir_sink_commit_seconds_bucket/);
    const health = await fetch(`http://127.0.0.1:${port}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({
      state: 'running',
      groupId: 'cli-group',
      rowsCommitted: 3000,
      lag: 0,
    });
    expect((await fetch(`http://127.0.0.1:${port}/nope`)).status).toBe(404);

    expect(await stopGracefully(proc)).toEqual({ code: 0, signal: null });
    const names = proc.events.map((e) => e.event);
    expect(names).toEqual(expect.arrayContaining(['started', 'assigned', 'stopping', 'stopped']));
    expect(proc.events.at(-1)).toMatchObject({ event: 'stopped', rowsCommitted: 3000, timedOut: false });
    for (const e of proc.events) expect(typeof e.time).toBe('string');
    await expect(fetch(`http://127.0.0.1:${port}/healthz`)).rejects.toThrow();
    // The group was left: a new member gets every partition at once.
    const admin = kafka.admin();
    await admin.connect();
    const described = await admin.describeGroups(['cli-group']);
    await admin.disconnect();
    expect(described.groups[0]!.members).toEqual([]);
  });

  it('a SIGTERM while the brokers cannot be reached stops it cleanly (exit 0) before it starts', async () => {
    const dir = suite.dir('weir-cli-ingest-');
    const unreachable = await freePort();
    const p = startIngestProcess([
      '--brokers',
      `127.0.0.1:${unreachable}`,
      '--topic',
      'nowhere',
      '--table',
      path.join(dir, 'table'),
      '--schema',
      writeSchemaFile(dir, ORDER_SCHEMA),
    ]);
    await waitFor('the table is created', () => p.events.some((e) => e.event === 'table-created'), 30_000);
    await new Promise((r) => setTimeout(r, 1000)); // inside the client's connection retries
    p.child.kill('SIGTERM');
    const exit = await p.exited;
    expect(exit, p.stderr()).toEqual({ code: 0, signal: null });
    expect(p.events.some((e) => e.event === 'started')).toBe(false);
    expect(p.events.at(-1)).toMatchObject({
      event: 'stopped',
      reason: 'received SIGTERM',
      beforeStart: true,
    });
  });

  it('shows a live status line on a terminal', async () => {
    const hasScript = spawnSync('script', ['--version']).status === 0;
    expect(hasScript, 'the `script` command (util-linux) runs the CLI on a pseudo-terminal').toBe(true);
    const t = { dir: suite.dir('weir-cli-tty-') };
    const topic = 'cli-tty';
    const kafka = kafkajs(suite.broker);
    await createTopic(kafka, topic, 1);
    await produce(
      kafka,
      topic,
      Array.from({ length: 500 }, (_, i) => JSON.stringify(order(i))),
    );
    const command = [
      process.execPath,
      WEIR_BIN,
      'ingest',
      '--brokers',
      suite.broker.bootstrap,
      '--topic',
      topic,
      '--table',
      path.join(t.dir, 'table'),
      '--schema',
      writeSchemaFile(t.dir, ORDER_SCHEMA),
      '--group',
      'tty',
    ]
      .map((a) => `'${a}'`)
      .join(' ');
    // `exec`: no shell stays between the pty and weir, so Ctrl-C reaches weir alone (a
    // non-interactive dash in the foreground group would die of the SIGINT and script would
    // report 130 whatever weir did).
    const child = spawn('script', ['-qefc', `exec ${command}`, '/dev/null'], {
      cwd: REPO_ROOT,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (c: Buffer) => {
      out += c.toString('utf8');
    });
    await waitFor('500 rows on the status line', () => /500 rows/.test(out), 60_000);
    expect(out).toMatch(/ingest running \| 500 rows \| \d+ rows\/s \| lag 0 \| last commit v\d+/);
    expect(out).not.toMatch(/"event":/); // no JSON logs on a terminal
    child.stdin.write('\x03'); // Ctrl-C on the terminal: SIGINT to the ingest
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(code).toBe(0);
    expect(out).toMatch(/weir ingest stopped: 500 rows committed/);
  });
});

/**
 * `weir broker` as a user runs it (the real binary in a child process): prints the bootstrap
 * address, serves real kafkajs clients, keeps data in --data-dir across runs, and stops cleanly
 * on SIGTERM.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Partitioners } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { WEIR_BIN } from '../support/cli.js';
import { kafkajs, within } from './support.js';

function startCli(args: string[]): {
  child: ChildProcess;
  bootstrap: Promise<string>;
  exit: Promise<number | null>;
  out: () => string;
} {
  const child = spawn(process.execPath, [WEIR_BIN, 'broker', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  const bootstrap = new Promise<string>((resolve, reject) => {
    child.stdout!.on('data', (c: Buffer) => {
      stdout += c.toString();
      const m = /listening on (\S+:\d+)/.exec(stdout);
      if (m) resolve(m[1]!);
    });
    child.once('exit', () => reject(new Error(`weir broker exited early: ${stdout}`)));
  });
  child.stderr!.resume();
  const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, bootstrap, exit, out: () => stdout };
}

describe('weir broker', () => {
  it('runs until SIGTERM, serves clients and keeps --data-dir across runs', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'weir-cli-broker-'));
    try {
      const first = startCli(['--port', '0', '--data-dir', dir, '--partitions', '3']);
      const address = await within('the bootstrap address', first.bootstrap, 20_000);
      expect(address).toMatch(/^127\.0\.0\.1:\d+$/);
      const producer = kafkajs(address).producer({ createPartitioner: Partitioners.DefaultPartitioner });
      await producer.connect();
      await producer.send({ topic: 'cli-topic', messages: [{ value: 'one' }, { value: 'two' }] });
      await producer.disconnect();
      first.child.kill('SIGTERM');
      expect(await within('exit after SIGTERM', first.exit, 10_000)).toBe(0);
      expect(first.out()).toContain('not for production');
      expect(first.out()).toContain('stopped (SIGTERM)');

      const second = startCli(['--port', '0', '--data-dir', dir]);
      const again = await within('the bootstrap address', second.bootstrap, 20_000);
      const admin = kafkajs(again).admin();
      await admin.connect();
      const offsets = await admin.fetchTopicOffsets('cli-topic');
      expect(offsets).toHaveLength(3);
      expect(offsets.reduce((n, o) => n + Number(o.high), 0)).toBe(2);
      await admin.disconnect();
      second.child.kill('SIGINT');
      expect(await within('exit after SIGINT', second.exit, 10_000)).toBe(0);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('fails with a clear message when the port is taken', async () => {
    const first = startCli(['--port', '0']);
    const address = await within('the bootstrap address', first.bootstrap, 20_000);
    const port = address.split(':')[1]!;
    try {
      const child = spawn(process.execPath, [WEIR_BIN, 'broker', '--port', port], {
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stderr = '';
      child.stderr.on('data', (c: Buffer) => {
        stderr += c.toString();
      });
      const code = await within(
        'the second broker to fail',
        new Promise((r) => child.once('exit', r)),
        20_000,
      );
      expect(code).toBe(1);
      expect(stderr).toMatch(/weir: cannot listen on 127\.0\.0\.1:\d+/);
    } finally {
      first.child.kill('SIGTERM');
      await first.exit;
    }
  });
});

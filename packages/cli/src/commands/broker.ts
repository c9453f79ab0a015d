/**
 * `weir broker`: runs the single-node Kafka-protocol development broker (@weir/kafka-broker)
 * in the foreground until SIGINT or SIGTERM. Prints the bootstrap address on stdout; the
 * broker's structured logs (JSON lines) go to stderr. For tests, demos and local development
 * only: one node, no replication, no security, no transactions.
 */
import { isBrokerError, jsonLinesLogger, startBroker } from '@weir/kafka-broker';
import { WeirError } from '@weir/storage';
import type { Command } from 'commander';
import { type CliContext, write } from '../context.js';

function parseIntOption(name: string, min: number, max: number) {
  return (text: string): number => {
    const n = Number(text);
    if (!/^\d+$/.test(text) || n < min || n > max) {
      throw new WeirError(
        'INVALID_ARGUMENT',
        `${name} must be an integer from ${min} to ${max}, got ${text}`,
      );
    }
    return n;
  };
}

function untilSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const on = (sig: NodeJS.Signals) => {
      process.off('SIGINT', on);
      process.off('SIGTERM', on);
      resolve(sig);
    };
    process.on('SIGINT', on);
    process.on('SIGTERM', on);
  });
}

export function registerBrokerCommand(program: Command, ctx: CliContext): void {
  program
    .command('broker')
    .description('run a local single-node Kafka-protocol broker for development (not for production)')
    .option(
      '--port <port>',
      'TCP port on 127.0.0.1 (0 picks a free one)',
      parseIntOption('--port', 0, 65535),
      9092,
    )
    .option('--data-dir <dir>', 'keep topics, messages and committed offsets in this directory')
    .option(
      '--partitions <n>',
      'partitions of auto-created topics',
      parseIntOption('--partitions', 1, 10000),
      1,
    )
    .action(async (opts: { port: number; dataDir?: string; partitions: number }) => {
      const logger = jsonLinesLogger((line) => ctx.io.stderr.write(line));
      const broker = await startBroker({
        port: opts.port,
        defaultPartitions: opts.partitions,
        logger,
        ...(opts.dataDir !== undefined ? { dataDir: opts.dataDir } : {}),
      }).catch((err: unknown) => {
        if (isBrokerError(err)) throw new WeirError(err.code, err.message, { cause: err });
        throw err;
      });
      await write(
        ctx.io.stdout,
        `weir broker listening on ${broker.bootstrap}\n` +
          `  bootstrap servers: ${broker.bootstrap}\n` +
          `  data: ${opts.dataDir ?? 'in memory (lost on exit)'}; auto-created topics get ${opts.partitions} partition(s)\n` +
          '  development broker: not for production. Ctrl-C stops it.\n',
      );
      const sig = await untilSignal();
      await broker.stop();
      await write(ctx.io.stdout, `weir broker stopped (${sig})\n`);
    });
}

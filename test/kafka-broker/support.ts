/**
 * Helpers for the broker suites: start a broker per test (random port, silent), build real
 * kafkajs clients against it (silent logs), load the optional librdkafka client, and bounded
 * waits (every wait has a timeout and says what it was waiting for).
 */
import { createRequire } from 'node:module';
import { type Broker, type BrokerOptions, jsonLinesLogger, startBroker } from '@weir/kafka-broker';
import { Kafka, type KafkaConfig, logLevel } from 'kafkajs';

/** KB_DEBUG=1 prints the broker's debug log and kafkajs's logs to stderr. */
const { KB_DEBUG } = process.env;
const DEBUG = Boolean(KB_DEBUG);

export function testBrokerOptions(options: BrokerOptions = {}): BrokerOptions {
  if (!DEBUG || options.logger !== undefined) return options;
  return { ...options, logger: jsonLinesLogger((line) => process.stderr.write(line), 'debug') };
}

export async function withBroker<T>(options: BrokerOptions, fn: (broker: Broker) => Promise<T>): Promise<T> {
  const broker = await startBroker(testBrokerOptions(options));
  try {
    return await fn(broker);
  } finally {
    await broker.stop();
  }
}

export function kafkajs(broker: Broker | string, config: Partial<KafkaConfig> = {}): Kafka {
  return new Kafka({
    clientId: 'weir-test',
    brokers: [typeof broker === 'string' ? broker : broker.bootstrap],
    logLevel: DEBUG ? logLevel.INFO : logLevel.NOTHING,
    retry: { retries: 8, initialRetryTime: 50, maxRetryTime: 1000 },
    ...config,
  });
}

/** Polls `check` every `everyMs` until it returns true; throws naming `what` after `timeoutMs`. */
export async function waitFor(
  what: string,
  check: () => boolean | Promise<boolean>,
  timeoutMs = 20_000,
  everyMs = 20,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** Rejects naming `what` if `p` does not settle within `timeoutMs`. */
export async function within<T>(what: string, p: Promise<T>, timeoutMs: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      p,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`timed out after ${timeoutMs} ms: ${what}`)), timeoutMs);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

// biome-ignore lint/suspicious/noExplicitAny: the optional native client has no types we can import statically
export type RdKafkaModule = any;

/**
 * The librdkafka client (@confluentinc/kafka-javascript), or why it cannot be loaded. It is an
 * optional dependency with a native build; CI sets WEIR_REQUIRE_LIBRDKAFKA=1 so a failed build
 * fails the suites instead of skipping them.
 */
export function loadRdkafka(
  moduleName = '@confluentinc/kafka-javascript',
  env: NodeJS.ProcessEnv = process.env,
): { module: RdKafkaModule | null; reason: string } {
  try {
    const require = createRequire(import.meta.url);
    const mod = require(moduleName) as RdKafkaModule;
    return { module: mod, reason: `librdkafka ${mod.librdkafkaVersion}` };
  } catch (err) {
    const reason = `${moduleName} is not installed or did not build: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`;
    const required = env.WEIR_REQUIRE_LIBRDKAFKA;
    if (required && required !== '0' && required.toLowerCase() !== 'false') {
      throw new Error(`WEIR_REQUIRE_LIBRDKAFKA is set but ${reason}`);
    }
    return { module: null, reason };
  }
}

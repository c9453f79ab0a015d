/**
 * @weir/kafka-broker — a single-node broker that speaks the Kafka wire protocol well enough for
 * unmodified kafkajs and librdkafka clients: for tests, demos and local development. NOT for
 * production: one process, one node, no replication, no security, no transactions.
 *
 * `startBroker(options)` listens on 127.0.0.1 (a given or random port) and resolves to a
 * `Broker` with its `bootstrap` address, `stop()`, and fault hooks for tests.
 */
import { Broker, type BrokerOptions } from './server/broker.js';

export { BrokerError, isBrokerError, KafkaErrorCode, ProtocolError } from './errors.js';
export type { RetentionPolicy } from './log/retention.js';
export { type BrokerLogger, jsonLinesLogger, type LogLevel, silentLogger } from './logger.js';
export { ApiKey, SUPPORTED_APIS, type VersionRange } from './protocol/api-keys.js';
export type { BrokerStats } from './server/context.js';
export { Broker, type BrokerOptions };

/** Starts a broker; resolves once it accepts connections. */
export function startBroker(options: BrokerOptions = {}): Promise<Broker> {
  return Broker.start(options);
}

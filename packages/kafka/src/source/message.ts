/**
 * The one shape a Kafka message takes inside Weir, whichever client fetched it (kafkajs or
 * librdkafka's KafkaJS-compatible API): offsets and timestamps as numbers, raw key and value.
 */

export interface SourceMessage {
  topic: string;
  partition: number;
  offset: number;
  key: Buffer | null;
  value: Buffer | null;
  /** Producer (or log-append) timestamp, epoch milliseconds. */
  timestamp: number;
  headers: Readonly<Record<string, Buffer | string | undefined>>;
}

/** The txn appId under which a topic-partition's position is stored in the table. */
export function positionAppId(appIdPrefix: string, topic: string, partition: number): string {
  return `${appIdPrefix}-${topic}-${partition}`;
}

import { createRequire } from 'node:module';
import { jsonLinesLogger, startBroker } from '@weir/kafka-broker';

const require = createRequire(import.meta.url);
const { Kafka } = require('@confluentinc/kafka-javascript').KafkaJS;
const broker = await startBroker({ logger: jsonLinesLogger((l) => process.stderr.write(l), 'debug') });
const kafka = new Kafka({ kafkaJS: { brokers: [broker.bootstrap], logLevel: 2 } });
const admin = kafka.admin();
await admin.connect();
try {
  await admin.createTopics({ topics: [{ topic: 'x', numPartitions: 8 }] });
  console.log('ok', broker.topics.names());
} catch (e: any) {
  console.log('err', e, JSON.stringify(e.errors ?? e, null, 1));
}
await admin.disconnect();
await broker.stop();

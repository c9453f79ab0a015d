import { createRequire } from 'node:module';
import { jsonLinesLogger, startBroker } from '@weir/kafka-broker';

const require = createRequire(import.meta.url);
const { Kafka } = require('@confluentinc/kafka-javascript').KafkaJS;

const broker = await startBroker({
  defaultPartitions: 3,
  logger: jsonLinesLogger((l) => process.stderr.write(l), 'debug'),
});
const kafka = new Kafka({ kafkaJS: { brokers: [broker.bootstrap], logLevel: 2 } });
const producer = kafka.producer({ 'compression.codec': 'zstd' } as never);
await producer.connect();
await producer.send({
  topic: 'r1',
  messages: Array.from({ length: 100 }, (_, j) => ({ key: `k${j}`, value: `v${j}` })),
});
console.log('produced');
const consumer = kafka.consumer({ kafkaJS: { groupId: 'rg', fromBeginning: true } });
await consumer.connect();
await consumer.subscribe({ topics: ['r1'] });
let n = 0;
await new Promise<void>((resolve) => {
  consumer.run({
    eachMessage: async () => {
      n++;
      if (n === 100) resolve();
    },
  });
});
console.log('consumed', n);
await consumer.disconnect();
await producer.disconnect();
await broker.stop();
console.log('done');

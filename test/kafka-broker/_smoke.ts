import { jsonLinesLogger, startBroker } from '@weir/kafka-broker';
import { CompressionTypes, Kafka, logLevel } from 'kafkajs';

const broker = await startBroker({
  defaultPartitions: 3,
  logger: jsonLinesLogger((l) => process.stderr.write(l), 'info'),
});
console.log('bootstrap', broker.bootstrap);
const kafka = new Kafka({ brokers: [broker.bootstrap], logLevel: logLevel.WARN, clientId: 'smoke' });
const admin = kafka.admin();
await admin.connect();
await admin.createTopics({ topics: [{ topic: 't1', numPartitions: 4 }] });
console.log('topics', await admin.listTopics());
const producer = kafka.producer({ idempotent: true });
await producer.connect();
for (let i = 0; i < 5; i++) {
  await producer.send({
    topic: 't1',
    compression: CompressionTypes.GZIP,
    messages: Array.from({ length: 100 }, (_, j) => ({ key: `k${j}`, value: `v${i}-${j}` })),
  });
}
console.log('offsets', await admin.fetchTopicOffsets('t1'));
const consumer = kafka.consumer({ groupId: 'g1' });
await consumer.connect();
await consumer.subscribe({ topic: 't1', fromBeginning: true });
let n = 0;
await new Promise<void>((resolve) => {
  consumer.run({
    eachMessage: async () => {
      n++;
      if (n === 500) resolve();
    },
  });
});
console.log('consumed', n);
await consumer.disconnect();
await producer.disconnect();
console.log('groups', await admin.listGroups());
await admin.disconnect();
await broker.stop();
console.log('done');

/**
 * Request decoders and response encoders of every API, per version: requests are built with
 * Writer exactly as the protocol lays them out, responses are read back field by field.
 */
import { describe, expect, it } from 'vitest';
import { SUPPORTED_APIS } from './api-keys.js';
import { encodeApiVersionsResponse } from './api-versions.js';
import { decodeCreateTopicsRequest, encodeCreateTopicsResponse } from './create-topics.js';
import { decodeDeleteTopicsRequest, encodeDeleteTopicsResponse } from './delete-topics.js';
import { decodeDescribeGroupsRequest, encodeDescribeGroupsResponse } from './describe-groups.js';
import { decodeFetchRequest, encodeFetchResponse } from './fetch.js';
import { decodeFindCoordinatorRequest, encodeFindCoordinatorResponse } from './find-coordinator.js';
import { peekHeader, readRequestHeader, responseFrame } from './header.js';
import { decodeHeartbeatRequest, encodeHeartbeatResponse } from './heartbeat.js';
import { decodeInitProducerIdRequest, encodeInitProducerIdResponse } from './init-producer-id.js';
import { decodeJoinGroupRequest, encodeJoinGroupResponse } from './join-group.js';
import { decodeLeaveGroupRequest, encodeLeaveGroupResponse } from './leave-group.js';
import { encodeListGroupsResponse } from './list-groups.js';
import { decodeListOffsetsRequest, encodeListOffsetsResponse } from './list-offsets.js';
import { decodeMetadataRequest, encodeMetadataResponse } from './metadata.js';
import { decodeOffsetCommitRequest, encodeOffsetCommitResponse } from './offset-commit.js';
import { decodeOffsetFetchRequest, encodeOffsetFetchResponse } from './offset-fetch.js';
import { decodeProduceRequest, encodeProduceResponse } from './produce.js';
import { Reader } from './reader.js';
import { decodeSyncGroupRequest, encodeSyncGroupResponse } from './sync-group.js';
import { Writer } from './writer.js';

const read = (chunks: Buffer[]) => new Reader(Buffer.concat(chunks));
const req = (build: (w: Writer) => unknown) => {
  const w = new Writer();
  build(w);
  return new Reader(w.toBuffer());
};

describe('header', () => {
  it('reads header v1 and frames responses with size and correlation id', () => {
    const frame = new Writer().int16(3).int16(6).int32(42).nullableString('cli').int32(-1).toBuffer();
    expect(peekHeader(frame)).toEqual({ apiKey: 3, apiVersion: 6, correlationId: 42 });
    const { header, body } = readRequestHeader(frame);
    expect(header.clientId).toBe('cli');
    expect(body.int32()).toBe(-1);
    const out = Buffer.concat(responseFrame(42, [Buffer.from([1, 2])]));
    expect(out.toString('hex')).toBe('00000006' + '0000002a' + '0102');
  });
});

describe('ApiVersions', () => {
  it('lists every API; v1+ adds throttle time', () => {
    for (const v of [0, 2]) {
      const r = read(encodeApiVersionsResponse(v, 0, SUPPORTED_APIS));
      expect(r.int16()).toBe(0);
      const apis = r.array((r) => [r.int16(), r.int16(), r.int16()]);
      expect(apis).toContainEqual([1, 4, 11]);
      expect(apis).toHaveLength(17);
      if (v >= 1) expect(r.int32()).toBe(0);
      expect(r.remaining()).toBe(0);
    }
  });
});

describe('Metadata', () => {
  it('decodes null (all) and named topics with the v4 auto-create flag', () => {
    expect(
      decodeMetadataRequest(
        req((w) => w.int32(-1)),
        1,
      ),
    ).toEqual({ topics: null, allowAutoTopicCreation: true });
    expect(
      decodeMetadataRequest(
        req((w) => w.array(['a'], (w, s) => w.string(s)).bool(false)),
        4,
      ),
    ).toEqual({
      topics: ['a'],
      allowAutoTopicCreation: false,
    });
  });

  it('encodes brokers, cluster id (v2+), controller, topics and offline replicas (v5+)', () => {
    const res = {
      brokers: [{ nodeId: 1, host: 'h', port: 9 }],
      clusterId: 'c',
      controllerId: 1,
      topics: [{ errorCode: 0, name: 't', partitions: [{ errorCode: 0, index: 0, leader: 1 }] }],
    };
    const r = read(encodeMetadataResponse(6, res));
    expect(r.int32()).toBe(0);
    expect(r.array((r) => [r.int32(), r.string(), r.int32(), r.nullableString()])).toEqual([
      [1, 'h', 9, null],
    ]);
    expect([r.nullableString(), r.int32()]).toEqual(['c', 1]);
    const topics = r.array((r) => ({
      e: r.int16(),
      n: r.string(),
      i: r.bool(),
      p: r.array((r) => [r.int16(), r.int32(), r.int32(), r.int32Array(), r.int32Array(), r.int32Array()]),
    }));
    expect(topics).toEqual([{ e: 0, n: 't', i: false, p: [[0, 0, 1, [1], [1], []]] }]);
    expect(r.remaining()).toBe(0);
    const v1 = read(encodeMetadataResponse(1, res));
    v1.array((r) => [r.int32(), r.string(), r.int32(), r.nullableString()]);
    expect(v1.int32()).toBe(1); // controller right after brokers: no cluster id before v2
  });
});

describe('Produce', () => {
  it('decodes record sets as views and encodes v3/v7 responses', () => {
    const records = Buffer.from('batch');
    const r = req((w) =>
      w
        .nullableString(null)
        .int16(-1)
        .int32(1000)
        .array([0], (w) => {
          w.string('t').array([0], (w) => w.int32(2).bytes(records));
        }),
    );
    const d = decodeProduceRequest(r, 7);
    expect(d).toMatchObject({ transactionalId: null, acks: -1, timeoutMs: 1000 });
    expect(d.topics[0]!.partitions[0]).toEqual({ index: 2, records });
    for (const v of [3, 7]) {
      const out = read(
        encodeProduceResponse(v, [
          { name: 't', partitions: [{ index: 2, errorCode: 0, baseOffset: 9, logStartOffset: 0 }] },
        ]),
      );
      const parts = out.array((r) => [
        r.string(),
        r.array((r) => [r.int32(), r.int16(), r.int64(), r.int64(), ...(v >= 5 ? [r.int64()] : [])]),
      ]);
      expect(parts).toEqual([['t', [[2, 0, 9, -1, ...(v >= 5 ? [0] : [])]]]]);
      expect(out.int32()).toBe(0);
      expect(out.remaining()).toBe(0);
    }
  });
});

describe('Fetch', () => {
  const request = (v: number) =>
    req((w) => {
      w.int32(-1)
        .int32(500)
        .int32(1)
        .int32(1 << 20)
        .int8(1);
      if (v >= 7) w.int32(0).int32(-1);
      w.array([0], (w) => {
        w.string('t').array([0], (w) => {
          w.int32(3);
          if (v >= 9) w.int32(-1);
          w.int64(77);
          if (v >= 5) w.int64(-1);
          w.int32(4096);
        });
      });
      if (v >= 7) w.int32(0);
      if (v >= 11) w.string('');
    });

  it('decodes v4, v7 and v11 requests', () => {
    for (const v of [4, 7, 11]) {
      const r = request(v);
      expect(decodeFetchRequest(r, v)).toEqual({
        maxWaitMs: 500,
        minBytes: 1,
        maxBytes: 1 << 20,
        isolationLevel: 1,
        topics: [{ name: 't', partitions: [{ index: 3, fetchOffset: 77, maxBytes: 4096 }] }],
      });
      expect(r.remaining()).toBe(0);
    }
  });

  it('encodes v11 with the stored batches appended by reference', () => {
    const b1 = Buffer.from('first-batch');
    const b2 = Buffer.from('second');
    const chunks = encodeFetchResponse(11, [
      {
        name: 't',
        partitions: [
          {
            index: 3,
            errorCode: 0,
            highWatermark: 10,
            logStartOffset: 2,
            batches: [b1, b2],
            batchBytes: b1.length + b2.length,
          },
        ],
      },
    ]);
    expect(chunks).toContain(b1);
    expect(chunks).toContain(b2);
    const r = read(chunks);
    expect([r.int32(), r.int16(), r.int32()]).toEqual([0, 0, 0]);
    expect(r.int32()).toBe(1);
    expect(r.string()).toBe('t');
    expect(r.int32()).toBe(1);
    expect([r.int32(), r.int16(), r.int64(), r.int64(), r.int64(), r.int32(), r.int32()]).toEqual([
      3, 0, 10, 10, 2, 0, -1,
    ]);
    expect(r.bytes().toString()).toBe('first-batchsecond');
    expect(r.remaining()).toBe(0);
  });
});

describe('ListOffsets', () => {
  it('decodes v1 and v2+ (isolation level) and encodes throttle time from v2', () => {
    const body = (v: number) =>
      req((w) => {
        w.int32(-1);
        if (v >= 2) w.int8(0);
        w.array([0], (w) => w.string('t').array([0], (w) => w.int32(0).int64(-2)));
      });
    for (const v of [1, 3]) {
      expect(decodeListOffsetsRequest(body(v), v).topics).toEqual([
        { name: 't', partitions: [{ index: 0, timestamp: -2 }] },
      ]);
    }
    const r = read(
      encodeListOffsetsResponse(2, [
        { name: 't', partitions: [{ index: 0, errorCode: 0, timestamp: -1, offset: 5 }] },
      ]),
    );
    expect(r.int32()).toBe(0);
    expect(
      r.array((r) => [r.string(), r.array((r) => [r.int32(), r.int16(), r.int64(), r.int64()])]),
    ).toEqual([['t', [[0, 0, -1, 5]]]]);
  });
});

describe('group APIs', () => {
  it('JoinGroup: v0 uses the session timeout as rebalance timeout; v5 has instance ids', () => {
    const body = (v: number) =>
      req((w) => {
        w.string('g').int32(10_000);
        if (v >= 1) w.int32(60_000);
        w.string('m');
        if (v >= 5) w.nullableString(null);
        w.string('consumer').array([0], (w) => w.string('range').bytes(Buffer.from([1])));
      });
    expect(decodeJoinGroupRequest(body(0), 0).rebalanceTimeoutMs).toBe(10_000);
    expect(decodeJoinGroupRequest(body(5), 5)).toMatchObject({
      rebalanceTimeoutMs: 60_000,
      groupInstanceId: null,
      memberId: 'm',
    });
    const res = {
      errorCode: 0,
      generationId: 1,
      protocolName: 'range',
      leader: 'm',
      memberId: 'm',
      members: [{ memberId: 'm', groupInstanceId: null, metadata: Buffer.from([1]) }],
    };
    const r5 = read(encodeJoinGroupResponse(5, res));
    expect([r5.int32(), r5.int16(), r5.int32(), r5.string(), r5.string(), r5.string()]).toEqual([
      0,
      0,
      1,
      'range',
      'm',
      'm',
    ]);
    expect(r5.array((r) => [r.string(), r.nullableString(), [...r.bytes()]])).toEqual([['m', null, [1]]]);
    const r0 = read(encodeJoinGroupResponse(0, res));
    expect(r0.int16()).toBe(0); // no throttle time before v2
  });

  it('SyncGroup, Heartbeat and LeaveGroup across versions', () => {
    const sync = decodeSyncGroupRequest(
      req((w) =>
        w
          .string('g')
          .int32(3)
          .string('m')
          .nullableString(null)
          .array([0], (w) => w.string('m').bytes(Buffer.from('a'))),
      ),
      3,
    );
    expect(sync).toEqual({
      groupId: 'g',
      generationId: 3,
      memberId: 'm',
      assignments: [{ memberId: 'm', assignment: Buffer.from('a') }],
    });
    const sr = read(encodeSyncGroupResponse(0, { errorCode: 27, assignment: Buffer.alloc(0) }));
    expect([sr.int16(), sr.bytes().length]).toEqual([27, 0]);

    expect(
      decodeHeartbeatRequest(
        req((w) => w.string('g').int32(1).string('m').nullableString('i')),
        3,
      ),
    ).toEqual({ groupId: 'g', generationId: 1, memberId: 'm' });
    expect(Buffer.concat(encodeHeartbeatResponse(1, 25)).toString('hex')).toBe('000000000019');

    expect(
      decodeLeaveGroupRequest(
        req((w) => w.string('g').string('m')),
        1,
      ).members,
    ).toEqual([{ memberId: 'm', groupInstanceId: null }]);
    const v3 = decodeLeaveGroupRequest(
      req((w) => w.string('g').array(['a', 'b'], (w, m) => w.string(m).nullableString(null))),
      3,
    );
    expect(v3.members.map((m) => m.memberId)).toEqual(['a', 'b']);
    const lr = read(
      encodeLeaveGroupResponse(3, 0, [{ memberId: 'a', groupInstanceId: null, errorCode: 25 }]),
    );
    expect([lr.int32(), lr.int16()]).toEqual([0, 0]);
    expect(lr.array((r) => [r.string(), r.nullableString(), r.int16()])).toEqual([['a', null, 25]]);
  });

  it('OffsetCommit v2-4 carries a retention time that v5 drops; OffsetFetch null topics from v2', () => {
    const commit = (v: number) =>
      req((w) => {
        w.string('g').int32(2).string('m');
        if (v <= 4) w.int64(-1);
        w.array([0], (w) => w.string('t').array([0], (w) => w.int32(1).int64(40).nullableString(null)));
      });
    for (const v of [2, 5]) {
      expect(decodeOffsetCommitRequest(commit(v), v).topics).toEqual([
        { name: 't', partitions: [{ index: 1, offset: 40, metadata: null }] },
      ]);
    }
    expect(Buffer.concat(encodeOffsetCommitResponse(3, [])).toString('hex')).toBe('0000000000000000');
    expect(
      decodeOffsetFetchRequest(
        req((w) => w.string('g').int32(-1)),
        2,
      ),
    ).toEqual({ groupId: 'g', topics: null });
    const fr = read(
      encodeOffsetFetchResponse(
        4,
        [{ name: 't', partitions: [{ index: 0, offset: -1, metadata: '', errorCode: 0 }] }],
        0,
      ),
    );
    expect(fr.int32()).toBe(0);
    expect(
      fr.array((r) => [r.string(), r.array((r) => [r.int32(), r.int64(), r.nullableString(), r.int16()])]),
    ).toEqual([['t', [[0, -1, '', 0]]]]);
    expect(fr.int16()).toBe(0);
    expect(fr.remaining()).toBe(0);
  });

  it('FindCoordinator, DescribeGroups and ListGroups', () => {
    expect(
      decodeFindCoordinatorRequest(
        req((w) => w.string('g').int8(0)),
        1,
      ),
    ).toEqual({ key: 'g', keyType: 0 });
    const fc = read(encodeFindCoordinatorResponse(2, { errorCode: 0, nodeId: 1, host: 'h', port: 9 }));
    expect([fc.int32(), fc.int16(), fc.nullableString(), fc.int32(), fc.string(), fc.int32()]).toEqual([
      0,
      0,
      null,
      1,
      'h',
      9,
    ]);
    expect(
      decodeDescribeGroupsRequest(
        req((w) => w.array(['g'], (w, s) => w.string(s))),
        0,
      ),
    ).toEqual({ groupIds: ['g'] });
    const dg = read(
      encodeDescribeGroupsResponse(0, [
        { errorCode: 0, groupId: 'g', state: 'Dead', protocolType: '', protocolData: '', members: [] },
      ]),
    );
    expect(dg.array((r) => [r.int16(), r.string(), r.string(), r.string(), r.string(), r.int32()])).toEqual([
      [0, 'g', 'Dead', '', '', 0],
    ]);
    const lg = read(encodeListGroupsResponse(1, [{ groupId: 'g', protocolType: 'consumer' }]));
    expect([lg.int32(), lg.int16()]).toEqual([0, 0]);
    expect(lg.array((r) => [r.string(), r.string()])).toEqual([['g', 'consumer']]);
  });
});

describe('topic admin and producer ids', () => {
  it('CreateTopics v0 and v3, DeleteTopics, InitProducerId', () => {
    const create = (v: number) =>
      req((w) => {
        w.array([0], (w) =>
          w
            .string('t')
            .int32(-1)
            .int16(-1)
            .array([], () => {})
            .array([['retention.ms', '1000']], (w, [k, val]) => w.string(k!).nullableString(val!)),
        );
        w.int32(5000);
        if (v >= 1) w.bool(true);
      });
    expect(decodeCreateTopicsRequest(create(0), 0).validateOnly).toBe(false);
    const v3 = decodeCreateTopicsRequest(create(4), 4);
    expect(v3).toMatchObject({
      validateOnly: true,
      topics: [
        {
          name: 't',
          numPartitions: -1,
          replicationFactor: -1,
          configs: [{ name: 'retention.ms', value: '1000' }],
        },
      ],
    });
    const cr = read(encodeCreateTopicsResponse(2, [{ name: 't', errorCode: 36, errorMessage: 'exists' }]));
    expect([cr.int32(), cr.array((r) => [r.string(), r.int16(), r.nullableString()])]).toEqual([
      0,
      [['t', 36, 'exists']],
    ]);
    expect(
      decodeDeleteTopicsRequest(
        req((w) => w.array(['t'], (w, s) => w.string(s)).int32(100)),
        1,
      ),
    ).toEqual({ names: ['t'], timeoutMs: 100 });
    expect(Buffer.concat(encodeDeleteTopicsResponse(0, [{ name: 't', errorCode: 3 }])).toString('hex')).toBe(
      '00000001' + '000174' + '0003',
    );
    expect(
      decodeInitProducerIdRequest(
        req((w) => w.nullableString(null).int32(60000)),
        1,
      ),
    ).toEqual({ transactionalId: null, transactionTimeoutMs: 60000 });
    const ip = read(encodeInitProducerIdResponse(1, { errorCode: 0, producerId: 2 ** 50, producerEpoch: 0 }));
    expect([ip.int32(), ip.int16(), ip.int64(), ip.int16()]).toEqual([0, 0, 2 ** 50, 0]);
  });
});

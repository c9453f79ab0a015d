/**
 * The Kafka APIs this broker implements and the version range it advertises for each (all
 * non-flexible: no compact strings or tagged fields anywhere).
 *
 * Invariants: only versions whose codecs are implemented and tested are listed; every range's
 * max is at least kafkajs 2.2.4's lowest implemented version of that API (kafkajs crashes
 * otherwise), and librdkafka 2.x finds a common version for each API it uses.
 */

export const ApiKey = {
  Produce: 0,
  Fetch: 1,
  ListOffsets: 2,
  Metadata: 3,
  OffsetCommit: 8,
  OffsetFetch: 9,
  FindCoordinator: 10,
  JoinGroup: 11,
  Heartbeat: 12,
  LeaveGroup: 13,
  SyncGroup: 14,
  DescribeGroups: 15,
  ListGroups: 16,
  ApiVersions: 18,
  CreateTopics: 19,
  DeleteTopics: 20,
  InitProducerId: 22,
} as const;

export type ApiKeyValue = (typeof ApiKey)[keyof typeof ApiKey];

export interface VersionRange {
  readonly apiKey: number;
  readonly name: string;
  readonly min: number;
  readonly max: number;
}

export const SUPPORTED_APIS: readonly VersionRange[] = [
  { apiKey: ApiKey.Produce, name: 'Produce', min: 3, max: 7 },
  { apiKey: ApiKey.Fetch, name: 'Fetch', min: 4, max: 11 },
  { apiKey: ApiKey.ListOffsets, name: 'ListOffsets', min: 1, max: 3 },
  { apiKey: ApiKey.Metadata, name: 'Metadata', min: 1, max: 6 },
  { apiKey: ApiKey.OffsetCommit, name: 'OffsetCommit', min: 2, max: 5 },
  { apiKey: ApiKey.OffsetFetch, name: 'OffsetFetch', min: 1, max: 4 },
  { apiKey: ApiKey.FindCoordinator, name: 'FindCoordinator', min: 0, max: 2 },
  { apiKey: ApiKey.JoinGroup, name: 'JoinGroup', min: 0, max: 5 },
  { apiKey: ApiKey.Heartbeat, name: 'Heartbeat', min: 0, max: 3 },
  { apiKey: ApiKey.LeaveGroup, name: 'LeaveGroup', min: 0, max: 3 },
  { apiKey: ApiKey.SyncGroup, name: 'SyncGroup', min: 0, max: 3 },
  { apiKey: ApiKey.DescribeGroups, name: 'DescribeGroups', min: 0, max: 2 },
  { apiKey: ApiKey.ListGroups, name: 'ListGroups', min: 0, max: 2 },
  { apiKey: ApiKey.ApiVersions, name: 'ApiVersions', min: 0, max: 2 },
  { apiKey: ApiKey.CreateTopics, name: 'CreateTopics', min: 0, max: 4 },
  { apiKey: ApiKey.DeleteTopics, name: 'DeleteTopics', min: 0, max: 1 },
  { apiKey: ApiKey.InitProducerId, name: 'InitProducerId', min: 0, max: 1 },
];

const BY_KEY = new Map<number, VersionRange>(SUPPORTED_APIS.map((r) => [r.apiKey, r]));

export function versionRange(apiKey: number): VersionRange | undefined {
  return BY_KEY.get(apiKey);
}

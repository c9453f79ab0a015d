/**
 * Request dispatch: reads the header, checks the API and version against the advertised
 * ranges, runs the API's handler and frames its response.
 *
 * Invariants: an unknown API key or unsupported version (other than ApiVersions) throws a
 * ProtocolError, which closes only that connection; ApiVersions above our max is answered
 * with UNSUPPORTED_VERSION in v0 layout (what librdkafka expects before retrying); a handler
 * returning null means "no response" (Produce with acks=0).
 */
import { ProtocolError } from '../errors.js';
import { ApiKey, SUPPORTED_APIS, versionRange } from '../protocol/api-keys.js';
import { encodeApiVersionsResponse } from '../protocol/api-versions.js';
import { type FullRequestHeader, peekHeader, readRequestHeader, responseFrame } from '../protocol/header.js';
import type { Reader } from '../protocol/reader.js';
import type { Connection, DispatchResult } from './connection.js';
import type { BrokerContext } from './context.js';
import {
  handleApiVersions,
  handleCreateTopics,
  handleDeleteTopics,
  handleFindCoordinator,
  handleInitProducerId,
  handleMetadata,
} from './handlers/admin.js';
import { handleFetch, handleListOffsets, handleProduce } from './handlers/data.js';
import {
  handleDescribeGroups,
  handleHeartbeat,
  handleJoinGroup,
  handleLeaveGroup,
  handleListGroups,
  handleOffsetCommit,
  handleOffsetFetch,
  handleSyncGroup,
} from './handlers/groups.js';

type Handler = (
  ctx: BrokerContext,
  h: FullRequestHeader,
  body: Reader,
  conn: Connection,
) => Buffer[] | null | Promise<Buffer[] | null>;

const HANDLERS: ReadonlyMap<number, Handler> = new Map<number, Handler>([
  [ApiKey.Produce, handleProduce],
  [ApiKey.Fetch, handleFetch],
  [ApiKey.ListOffsets, handleListOffsets],
  [ApiKey.Metadata, handleMetadata],
  [ApiKey.OffsetCommit, handleOffsetCommit],
  [ApiKey.OffsetFetch, handleOffsetFetch],
  [ApiKey.FindCoordinator, handleFindCoordinator],
  [ApiKey.JoinGroup, handleJoinGroup],
  [ApiKey.Heartbeat, handleHeartbeat],
  [ApiKey.LeaveGroup, handleLeaveGroup],
  [ApiKey.SyncGroup, handleSyncGroup],
  [ApiKey.DescribeGroups, handleDescribeGroups],
  [ApiKey.ListGroups, handleListGroups],
  [ApiKey.ApiVersions, handleApiVersions],
  [ApiKey.CreateTopics, handleCreateTopics],
  [ApiKey.DeleteTopics, handleDeleteTopics],
  [ApiKey.InitProducerId, handleInitProducerId],
]);

export function dispatchRequest(
  ctx: BrokerContext,
  conn: Connection,
  frame: Buffer,
  latencyMs: number,
): DispatchResult {
  const { apiKey, apiVersion, correlationId } = peekHeader(frame);
  const range = versionRange(apiKey);
  const handler = HANDLERS.get(apiKey);
  if (range === undefined || handler === undefined) {
    throw new ProtocolError(`unsupported API key ${apiKey}`, { apiKey, apiVersion });
  }
  if (apiKey === ApiKey.ApiVersions && apiVersion > range.max) {
    return responseFrame(correlationId, encodeApiVersionsResponse(0, 35, SUPPORTED_APIS));
  }
  if (apiVersion < range.min || apiVersion > range.max) {
    throw new ProtocolError(
      `unsupported ${range.name} version ${apiVersion} (supported ${range.min}-${range.max})`,
      {
        apiKey,
        apiVersion,
      },
    );
  }
  const { header, body } = readRequestHeader(frame);
  const run = (): Buffer[] | null | Promise<Buffer[] | null> => handler(ctx, header, body, conn);
  const frameIt = (out: Buffer[] | null) => (out === null ? null : responseFrame(correlationId, out));
  if (latencyMs > 0) {
    return new Promise<void>((resolve) => setTimeout(resolve, latencyMs)).then(async () =>
      frameIt(await run()),
    );
  }
  const out = run();
  return out instanceof Promise ? out.then(frameIt) : frameIt(out);
}

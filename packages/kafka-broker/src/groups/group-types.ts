/**
 * Types shared by the group state machine (group.ts) and the code that drives it: join input
 * and output, sync output, the replies a state change releases, and a member's description.
 */

export type GroupStateName = 'Empty' | 'PreparingRebalance' | 'CompletingRebalance' | 'Stable' | 'Dead';

export interface ProtocolEntry {
  name: string;
  metadata: Buffer;
}

export interface JoinInput {
  memberId: string;
  groupInstanceId: string | null;
  clientId: string;
  clientHost: string;
  sessionTimeoutMs: number;
  rebalanceTimeoutMs: number;
  protocolType: string;
  protocols: ProtocolEntry[];
  /** v4+: a first join gets MEMBER_ID_REQUIRED and must join again with the id. */
  requireKnownMemberId: boolean;
}

export interface JoinOutput {
  errorCode: number;
  generationId: number;
  protocolName: string;
  leader: string;
  memberId: string;
  members: { memberId: string; groupInstanceId: string | null; metadata: Buffer }[];
}

export interface SyncOutput {
  errorCode: number;
  assignment: Buffer;
}

export type Reply =
  | { kind: 'join'; token: number; response: JoinOutput }
  | { kind: 'sync'; token: number; response: SyncOutput };

export interface MemberDescription {
  memberId: string;
  clientId: string;
  clientHost: string;
  metadata: Buffer;
  assignment: Buffer;
}

/**
 * Choosing a group's protocol (the partition assignor, for consumers) from what its members
 * support. Pure and synchronous.
 *
 * Invariants: the chosen protocol is supported by every member; among those, the one that is
 * the first choice of the most members wins, ties going to the first member's preference order.
 */
import type { ProtocolEntry } from './group-types.js';

export function sameProtocols(a: readonly ProtocolEntry[], b: readonly ProtocolEntry[]): boolean {
  return (
    a.length === b.length && a.every((p, i) => p.name === b[i]!.name && p.metadata.equals(b[i]!.metadata))
  );
}

/** Whether `candidate` shares at least one protocol with every one of `others`. */
export function hasCommonProtocol(
  candidate: readonly ProtocolEntry[],
  others: readonly (readonly ProtocolEntry[])[],
): boolean {
  return candidate.some((p) => others.every((o) => o.some((q) => q.name === p.name)));
}

/** The protocol to use for members with these protocol lists (at least one member). */
export function selectProtocol(members: readonly (readonly ProtocolEntry[])[]): string {
  const candidates = members[0]!
    .map((p) => p.name)
    .filter((n) => members.every((m) => m.some((p) => p.name === n)));
  const votes = new Map<string, number>();
  for (const m of members) {
    const choice = m.find((p) => candidates.includes(p.name))?.name;
    if (choice !== undefined) votes.set(choice, (votes.get(choice) ?? 0) + 1);
  }
  let best = candidates[0]!;
  for (const c of candidates) if ((votes.get(c) ?? 0) > (votes.get(best) ?? 0)) best = c;
  return best;
}

/**
 * What every command gets: where to write, whether that is a terminal, and how to turn a
 * table argument (path, file://, memory://, later s3://) into an ObjectStore. The resolver is
 * built per run from explicit factories; nothing is registered globally.
 */
import type { Writable } from 'node:stream';
import {
  createStoreResolver,
  defaultStoreFactories,
  type ObjectStore,
  type StoreFactories,
} from '@weir/storage';

export interface CliIo {
  stdout: Writable;
  stderr: Writable;
  /** Whether stdout is an interactive terminal (progress bars, tables). */
  isTTY: boolean;
}

export interface CliContext {
  io: CliIo;
  openStore(location: string): ObjectStore;
}

export function createContext(io: CliIo, extraFactories: StoreFactories = {}): CliContext {
  const resolver = createStoreResolver({ ...defaultStoreFactories(), ...extraFactories });
  return { io, openStore: (location) => resolver.resolve(location) };
}

/** Writes and waits for the stream to accept more (so big outputs do not pile up in memory). */
export async function write(stream: Writable, text: string): Promise<void> {
  if (!stream.write(text)) await new Promise<void>((resolve) => stream.once('drain', resolve));
}

/**
 * What every command gets: where to write, whether that is a terminal, and how to turn a
 * table argument (path, file://, memory://, s3://) into an ObjectStore. The resolver is built
 * per run from explicit factories; nothing is registered globally. S3 settings come from the
 * standard AWS environment and profiles, overridden by the global `--s3-*` flags; the S3 client
 * is created only when an s3:// table is opened.
 */
import type { Writable } from 'node:stream';
import {
  createStoreResolver,
  defaultStoreFactories,
  type ObjectStore,
  type StoreFactories,
  type StoreFactory,
} from '@weir/storage';
import { mergeS3Options, type S3StoreOptions, s3OptionsFromEnv, s3StoreFactory } from '@weir/storage-s3';

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

/** The global S3 flags, as parsed by commander. */
export interface S3Flags {
  s3Endpoint?: string;
  s3Region?: string;
  s3Profile?: string;
  s3PathStyle?: boolean;
  s3UnsafeSingleWriter?: boolean;
}

export function s3OptionsFromFlags(flags: S3Flags): Partial<S3StoreOptions> {
  return {
    ...(flags.s3Endpoint !== undefined ? { endpoint: flags.s3Endpoint } : {}),
    ...(flags.s3Region !== undefined ? { region: flags.s3Region } : {}),
    ...(flags.s3Profile !== undefined ? { profile: flags.s3Profile } : {}),
    ...(flags.s3PathStyle !== undefined ? { forcePathStyle: flags.s3PathStyle } : {}),
    ...(flags.s3UnsafeSingleWriter ? { conditionalWrites: 'single-writer-unsafe' as const } : {}),
  };
}

export function createContext(
  io: CliIo,
  s3Flags: () => S3Flags = () => ({}),
  extraFactories: StoreFactories = {},
): CliContext {
  let s3: StoreFactory | undefined;
  const lazyS3: StoreFactory = (location) => {
    s3 ??= s3StoreFactory(mergeS3Options(s3OptionsFromEnv(process.env), s3OptionsFromFlags(s3Flags())));
    return s3(location);
  };
  const resolver = createStoreResolver({
    ...defaultStoreFactories(),
    s3: lazyS3,
    s3a: lazyS3,
    ...extraFactories,
  });
  return { io, openStore: (location) => resolver.resolve(location) };
}

/** Writes and waits for the stream to accept more (so big outputs do not pile up in memory). */
export async function write(stream: Writable, text: string): Promise<void> {
  if (!stream.write(text)) await new Promise<void>((resolve) => stream.once('drain', resolve));
}

/**
 * Optional file persistence under a data directory, so a restarted broker keeps its topics,
 * messages and committed group offsets:
 *
 *   <dir>/topics/<topic>/topic.json   {name, partitions, configs, logStartOffsets}
 *   <dir>/topics/<topic>/<p>.log      the partition's record batches, as stored (offsets rewritten)
 *   <dir>/offsets.jsonl               one committed offset per line; the last line for a key wins;
 *                                     a `{"deletedTopic": name}` line drops the lines before it
 *                                     for that topic (so a deleted topic's offsets do not return)
 *
 * Invariants: log files are append-only and hold whole batches in offset order (Kafka's own
 * segment format), so a torn tail left by a crash is detected and cut at load; JSON metadata is
 * replaced atomically (write a temp file, rename); the offsets file is compacted at load.
 * Writes are synchronous (page cache, no fsync): they survive a process crash, not a power
 * loss, which is what a development broker needs.
 */
import {
  closeSync,
  existsSync,
  ftruncateSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
  writevSync,
} from 'node:fs';
import path from 'node:path';
import type { OffsetEntry } from '../groups/offset-store.js';
import { readBatchHeader, scanBatches } from './record-batch.js';

export interface LoadedPartition {
  logStartOffset: number;
  batches: { buf: Buffer; baseOffset: number; lastOffsetDelta: number }[];
  /** Bytes cut from a torn tail, if any. */
  truncatedBytes: number;
}

export interface LoadedTopic {
  name: string;
  configs: Record<string, string>;
  partitions: LoadedPartition[];
}

interface TopicMeta {
  name: string;
  partitions: number;
  configs: Record<string, string>;
  logStartOffsets: number[];
}

function writeJsonAtomic(file: string, value: unknown): void {
  const tmp = `${file}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(value)}\n`);
  renameSync(tmp, file);
}

export class LogPersistence {
  private readonly fds = new Map<string, number>();
  private offsetsFd: number | undefined;
  private readonly metas = new Map<string, TopicMeta>();

  constructor(readonly dir: string) {
    mkdirSync(path.join(dir, 'topics'), { recursive: true });
  }

  private topicDir(name: string): string {
    return path.join(this.dir, 'topics', name);
  }

  private logFile(topic: string, partition: number): string {
    return path.join(this.topicDir(topic), `${partition}.log`);
  }

  loadTopics(): LoadedTopic[] {
    const out: LoadedTopic[] = [];
    for (const entry of readdirSync(path.join(this.dir, 'topics'), { withFileTypes: true })) {
      if (!entry.isDirectory()) continue;
      const metaFile = path.join(this.dir, 'topics', entry.name, 'topic.json');
      if (!existsSync(metaFile)) continue;
      const meta = JSON.parse(readFileSync(metaFile, 'utf8')) as TopicMeta;
      this.metas.set(meta.name, meta);
      const partitions: LoadedPartition[] = [];
      for (let p = 0; p < meta.partitions; p++) {
        partitions.push(this.loadPartition(meta, p));
      }
      out.push({ name: meta.name, configs: meta.configs, partitions });
    }
    return out;
  }

  private loadPartition(meta: TopicMeta, p: number): LoadedPartition {
    const file = this.logFile(meta.name, p);
    const logStartOffset = meta.logStartOffsets[p] ?? 0;
    if (!existsSync(file)) return { logStartOffset, batches: [], truncatedBytes: 0 };
    const data = readFileSync(file);
    const scan = scanBatches(data, false);
    const all = scan.batches.map((buf) => {
      const h = readBatchHeader(buf);
      return { buf, baseOffset: h.baseOffset, lastOffsetDelta: h.lastOffsetDelta };
    });
    const live = all.filter((b) => b.baseOffset + b.lastOffsetDelta + 1 > logStartOffset);
    const truncatedBytes = data.length - scan.validBytes;
    if (live.length !== all.length) {
      // Retention deleted the head: rewrite the file with the live batches only.
      const tmp = `${file}.tmp`;
      const fd = openSync(tmp, 'w');
      try {
        if (live.length > 0)
          writevSync(
            fd,
            live.map((b) => b.buf),
          );
      } finally {
        closeSync(fd);
      }
      renameSync(tmp, file);
    } else if (truncatedBytes > 0) {
      const fd = openSync(file, 'r+');
      try {
        ftruncateSync(fd, scan.validBytes);
      } finally {
        closeSync(fd);
      }
    }
    return { logStartOffset, batches: live, truncatedBytes };
  }

  loadOffsets(): OffsetEntry[] {
    const file = path.join(this.dir, 'offsets.jsonl');
    if (!existsSync(file)) return [];
    const latest = new Map<string, OffsetEntry>();
    for (const line of readFileSync(file, 'utf8').split('\n')) {
      if (line.trim() === '') continue;
      try {
        const e = JSON.parse(line) as OffsetEntry | { deletedTopic: string };
        if ('deletedTopic' in e) {
          for (const [key, v] of latest) if (v.topic === e.deletedTopic) latest.delete(key);
          continue;
        }
        latest.set(JSON.stringify([e.group, e.topic, e.partition]), e);
      } catch {
        // A torn last line from a crash: ignore it.
      }
    }
    const entries = [...latest.values()];
    const tmp = `${file}.tmp`;
    writeFileSync(tmp, entries.map((e) => `${JSON.stringify(e)}\n`).join(''));
    renameSync(tmp, file);
    return entries;
  }

  createTopic(name: string, partitions: number, configs: Record<string, string>): void {
    mkdirSync(this.topicDir(name), { recursive: true });
    const meta: TopicMeta = { name, partitions, configs, logStartOffsets: new Array(partitions).fill(0) };
    this.metas.set(name, meta);
    writeJsonAtomic(path.join(this.topicDir(name), 'topic.json'), meta);
  }

  setLogStartOffset(topic: string, partition: number, offset: number): void {
    const meta = this.metas.get(topic);
    if (meta === undefined) return;
    meta.logStartOffsets[partition] = offset;
    writeJsonAtomic(path.join(this.topicDir(topic), 'topic.json'), meta);
  }

  append(topic: string, partition: number, batches: readonly Buffer[]): void {
    const key = `${topic}\u0000${partition}`;
    let fd = this.fds.get(key);
    if (fd === undefined) {
      fd = openSync(this.logFile(topic, partition), 'a');
      this.fds.set(key, fd);
    }
    writevSync(fd, batches as Buffer[]);
  }

  deleteTopic(name: string): void {
    for (const [key, fd] of this.fds) {
      if (key.startsWith(`${name}\u0000`)) {
        closeSync(fd);
        this.fds.delete(key);
      }
    }
    this.metas.delete(name);
    rmSync(this.topicDir(name), { recursive: true, force: true });
    // Committed offsets of the topic go with it (a topic created later under the same name
    // starts with none, as in Kafka).
    this.offsetsFd ??= openSync(path.join(this.dir, 'offsets.jsonl'), 'a');
    writevSync(this.offsetsFd, [Buffer.from(`${JSON.stringify({ deletedTopic: name })}\n`)]);
  }

  appendOffsets(entries: readonly OffsetEntry[]): void {
    if (entries.length === 0) return;
    this.offsetsFd ??= openSync(path.join(this.dir, 'offsets.jsonl'), 'a');
    writevSync(
      this.offsetsFd,
      entries.map((e) => Buffer.from(`${JSON.stringify(e)}\n`)),
    );
  }

  close(): void {
    for (const fd of this.fds.values()) closeSync(fd);
    this.fds.clear();
    if (this.offsetsFd !== undefined) closeSync(this.offsetsFd);
    this.offsetsFd = undefined;
  }
}

/**
 * Worker-thread entry of the Parquet encode pool (encode-pool.ts). Each session is one data
 * file: batches arrive as Arrow IPC (`batch`), are decoded into WebAssembly and fed to
 * parquet-wasm's streaming writer as it asks for them, and each chunk of the file goes back as
 * the writer emits it (a row group at a time; `chunk`, its buffer transferred), then `done`.
 * A batch is acknowledged (`taken`) when the encoder takes it, so the parent never runs more
 * than its credit ahead of the encoder. Sessions on one worker interleave; each holds about one
 * row group in WebAssembly memory.
 * Loaded only as a worker; importing it elsewhere does nothing.
 */
import { isMainThread, parentPort } from 'node:worker_threads';
import { parquetModule } from '../parquet/wasm.js';
import { type FromEncoder, type ToEncoder, transferable } from './encode-pool.js';
import { type EncodeSettings, writerProperties } from './parquet-file.js';

interface Session {
  /** IPC batches not yet taken by the encoder; null closes the input. */
  items: (Uint8Array | null)[];
  wake: (() => void) | undefined;
  aborted: boolean;
}

if (!isMainThread && parentPort) {
  const port = parentPort;
  const post = (msg: FromEncoder, transfer: ArrayBuffer[] = []) => port.postMessage(msg, transfer);
  const sessions = new Map<number, Session>();

  const push = (s: Session, item: Uint8Array | null) => {
    s.items.push(item);
    const wake = s.wake;
    s.wake = undefined;
    wake?.();
  };

  const open = (id: number, settings: EncodeSettings) => {
    const pw = parquetModule();
    const s: Session = { items: [], wake: undefined, aborted: false };
    sessions.set(id, s);
    const next = async (): Promise<Uint8Array | null> => {
      while (s.items.length === 0) {
        await new Promise<void>((resolve) => {
          s.wake = resolve;
        });
      }
      return s.items.shift()!;
    };
    // highWaterMark 0: a batch is decoded into WebAssembly only when the encoder asks for it.
    const input = new ReadableStream<unknown>(
      {
        async pull(controller) {
          const ipc = await next();
          if (ipc === null) {
            controller.close();
            return;
          }
          const table = pw.Table.fromIPCStream(ipc);
          try {
            for (const b of table.recordBatches()) controller.enqueue(b);
          } finally {
            table.free();
          }
          post({ type: 'taken', session: id });
        },
      },
      { highWaterMark: 0 },
    );
    void (async () => {
      try {
        const output = (await pw.transformParquetStream(
          input as ReadableStream,
          writerProperties(pw, settings),
        )) as ReadableStream<Uint8Array>;
        const reader = output.getReader();
        for (;;) {
          const { done, value } = await reader.read();
          if (done) break;
          if (s.aborted) continue;
          // A view of wasm memory must never be transferred (that would detach the encoder's memory).
          const own = value.buffer === pw.wasmMemory().buffer ? value.slice() : transferable(value);
          post({ type: 'chunk', session: id, bytes: own }, [own.buffer as ArrayBuffer]);
        }
        if (s.aborted) return;
        post({ type: 'done', session: id });
      } catch (err) {
        if (!s.aborted) {
          post({ type: 'error', session: id, message: err instanceof Error ? err.message : String(err) });
        }
      } finally {
        sessions.delete(id);
      }
    })();
  };

  port.on('message', (msg: ToEncoder) => {
    switch (msg.type) {
      case 'open':
        open(msg.session, msg.settings);
        break;
      case 'batch': {
        const s = sessions.get(msg.session);
        if (s && !s.aborted) push(s, msg.ipc);
        break;
      }
      case 'close': {
        const s = sessions.get(msg.session);
        if (s) push(s, null);
        break;
      }
      case 'abort': {
        const s = sessions.get(msg.session);
        if (s) {
          s.aborted = true;
          s.items.length = 0;
          push(s, null);
        }
        break;
      }
    }
  });
  // Load parquet-wasm before saying ready, so a worker that cannot encode is never used.
  try {
    parquetModule();
    post({ type: 'ready' });
  } catch (err) {
    post({ type: 'failed', message: err instanceof Error ? err.message : String(err) });
  }
}

/**
 * gzip decompression with the web-standard DecompressionStream (browsers, workers, Node ≥ 18):
 * no dependency, and the same code path everywhere the core runs.
 */

/** True when the bytes start with the gzip magic 1f 8b (RFC 1952 §2.3.1). */
export function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

/**
 * Decompresses one gzip stream. Rejects with a clear error for input that is not gzip, is
 * corrupt (bad header, CRC or length check) or is truncated, and — without holding more than
 * that in memory — for output beyond `maxBytes` (a small file can inflate to gigabytes).
 */
export async function gunzip(bytes: Uint8Array, maxBytes = Infinity): Promise<Uint8Array> {
  if (!isGzip(bytes)) {
    const head = Array.from(bytes.subarray(0, 2), (b) => b.toString(16).padStart(2, '0')).join(' ');
    throw new Error(`gunzip: not gzip data (expected magic bytes 1f 8b, got ${head || 'an empty input'})`);
  }
  const ds = new DecompressionStream('gzip');
  const writer = ds.writable.getWriter();
  // The writable side reports the same failure as the readable side; keep only the reader's.
  const written = writer.write(copyToArrayBuffer(bytes)).then(() => writer.close());
  written.catch(() => undefined);
  const reader = ds.readable.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      total += value.length;
      if (total > maxBytes) {
        chunks.length = 0;
        await reader.cancel().catch(() => undefined);
        throw new GunzipTooLargeError(`gunzip: the data inflates to more than ${maxBytes.toLocaleString('en-US')} bytes ` +
          `(${bytes.length.toLocaleString('en-US')} bytes compressed); refused`);
      }
    }
    await written;
  } catch (e) {
    if (e instanceof GunzipTooLargeError) throw e;
    const why = e instanceof Error ? e.message : String(e);
    throw new Error(`gunzip: corrupt or truncated gzip data (${bytes.length} bytes compressed): ${why}`, { cause: e });
  }
  if (chunks.length === 1) return chunks[0];
  const out = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

/** Output over gunzip's maxBytes (kept apart from corrupt-data errors). */
export class GunzipTooLargeError extends Error {
  override name = 'GunzipTooLargeError';
}

/** A view over a plain ArrayBuffer (DecompressionStream does not take SharedArrayBuffer views). */
function copyToArrayBuffer(bytes: Uint8Array): Uint8Array<ArrayBuffer> {
  return bytes.buffer instanceof ArrayBuffer
    ? new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength)
    : new Uint8Array(bytes);
}

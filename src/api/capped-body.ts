/**
 * Reading an upload into memory without trusting its Content-Length: the body is refused as soon
 * as what has arrived passes the limit, so a client cannot make the Worker buffer more than that.
 */

/**
 * Reads `body` into one array, refusing it with `tooLarge()` as soon as it passes `limitBytes`
 * (the stream is cancelled first). A missing body is empty.
 *
 * @example const bytes = await readCappedBody(c.req.raw.body, 1 << 20, () => new ApiError(...));
 */
export async function readCappedBody(
  body: ReadableStream<Uint8Array> | null,
  limitBytes: number,
  tooLarge: () => Error,
): Promise<Uint8Array> {
  if (!body) return new Uint8Array(0);
  const chunks: Uint8Array[] = [];
  let total = 0;
  const reader = body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > limitBytes) {
      await reader.cancel().catch(() => {});
      throw tooLarge();
    }
    chunks.push(value);
  }
  const bytes = new Uint8Array(total);
  let at = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, at);
    at += chunk.byteLength;
  }
  return bytes;
}

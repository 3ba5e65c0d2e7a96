import { connect } from 'node:net';

/** A response as the frame sees it: the raw header block and the body bytes after de-chunking. */
export interface RawResponse {
  readonly statusLine: string;
  readonly status: number;
  /** Header lines exactly as sent (name spelling preserved). */
  readonly headerLines: readonly string[];
  /** The body, de-chunked. */
  readonly body: Buffer;
  /** Sizes of the HTTP chunks, when the body was chunked. */
  readonly chunkSizes: readonly number[] | undefined;
  /** Milliseconds from sending the request to the first response byte. */
  readonly firstByteMs: number;
  /** Longest gap between two received packets once the body had started, in ms. */
  readonly longestGapMs: number;
  header(name: string): string | undefined;
}

/**
 * Speaks HTTP/1.1 over a plain socket the way the AiFrame firmware does, so tests see the
 * exact bytes: header spellings, chunk framing, key order.
 */
export function rawRequest(
  port: number,
  method: string,
  path: string,
  body?: string | Buffer,
  headers: Record<string, string> = { 'Content-Type': 'application/json', Accept: '*/*' },
): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    const started = Date.now();
    let firstByteAt: number | undefined;
    let lastPacketAt: number | undefined;
    let longestGap = 0;
    const packets: Buffer[] = [];
    socket.on('connect', () => {
      const payload = body === undefined ? Buffer.alloc(0) : Buffer.isBuffer(body) ? body : Buffer.from(body);
      const head = [`${method} ${path} HTTP/1.1`, `Host: 127.0.0.1:${port}`, 'Connection: close'];
      for (const [name, value] of Object.entries(headers)) head.push(`${name}: ${value}`);
      if (body !== undefined) head.push(`Content-Length: ${payload.length}`);
      socket.write(`${head.join('\r\n')}\r\n\r\n`);
      if (payload.length > 0) socket.write(payload);
    });
    socket.on('data', (packet) => {
      const now = Date.now();
      if (firstByteAt === undefined) firstByteAt = now;
      if (lastPacketAt !== undefined) longestGap = Math.max(longestGap, now - lastPacketAt);
      lastPacketAt = now;
      packets.push(packet);
    });
    socket.on('error', (error) => {
      // A server may answer (413) and close before a huge body is fully sent: what it said still counts.
      if (packets.length === 0) reject(error);
      else socket.emit('end');
    });
    let ended = false;
    socket.on('end', () => {
      if (ended) return;
      ended = true;
      try {
        resolve(parseResponse(Buffer.concat(packets), (firstByteAt ?? Date.now()) - started, longestGap));
      } catch (error) {
        reject(error as Error);
      }
    });
  });
}

function parseResponse(raw: Buffer, firstByteMs: number, longestGapMs: number): RawResponse {
  const headerEnd = raw.indexOf('\r\n\r\n');
  if (headerEnd < 0) throw new Error(`no header block in ${JSON.stringify(raw.toString('latin1').slice(0, 200))}`);
  const [statusLine = '', ...headerLines] = raw.subarray(0, headerEnd).toString('latin1').split('\r\n');
  const header = (name: string): string | undefined => {
    const line = headerLines.find((candidate) => candidate.toLowerCase().startsWith(`${name.toLowerCase()}:`));
    return line?.slice(line.indexOf(':') + 1).trim();
  };
  const rest = raw.subarray(headerEnd + 4);
  let body: Buffer;
  let chunkSizes: number[] | undefined;
  if (header('transfer-encoding')?.toLowerCase() === 'chunked') {
    chunkSizes = [];
    const parts: Buffer[] = [];
    let offset = 0;
    for (;;) {
      const lineEnd = rest.indexOf('\r\n', offset);
      if (lineEnd < 0) throw new Error('truncated chunked body');
      const size = parseInt(rest.subarray(offset, lineEnd).toString('latin1'), 16);
      if (Number.isNaN(size)) throw new Error('bad chunk size line');
      offset = lineEnd + 2;
      if (size === 0) break;
      chunkSizes.push(size);
      parts.push(rest.subarray(offset, offset + size));
      offset += size + 2;
    }
    body = Buffer.concat(parts);
  } else {
    const length = header('content-length');
    body = length === undefined ? rest : rest.subarray(0, Number(length));
  }
  return {
    statusLine,
    status: Number(statusLine.split(' ')[1]),
    headerLines,
    body,
    chunkSizes,
    firstByteMs,
    longestGapMs,
    header,
  };
}

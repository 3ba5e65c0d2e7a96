import { Agent, request } from 'node:http';

export interface LoadResult {
  readonly requests: number;
  readonly errors: number;
  readonly seconds: number;
  readonly latenciesMs: Float64Array;
  readonly bytes: number;
}

/**
 * Simulated frames: each one loops "start, then fetch the result" (the frame's two calls)
 * for a fixed time. Latency is per HTTP request, first byte sent to last byte received.
 */
export async function runFrames(port: number, frames: number, seconds: number, body = '{"type":"auto"}'): Promise<LoadResult> {
  const agent = new Agent({ keepAlive: true, maxSockets: frames });
  const latencies: number[] = [];
  let errors = 0;
  let bytes = 0;
  const deadline = performance.now() + seconds * 1000;
  const started = performance.now();

  const call = (method: string, path: string, payload?: string): Promise<Buffer> =>
    new Promise((resolve, reject) => {
      const begin = performance.now();
      const req = request({ host: '127.0.0.1', port, method, path, agent, headers: payload ? { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(payload) } : {} }, (res) => {
        const parts: Buffer[] = [];
        res.on('data', (part: Buffer) => parts.push(part));
        res.on('end', () => {
          latencies.push(performance.now() - begin);
          const all = Buffer.concat(parts);
          bytes += all.length;
          if ((res.statusCode ?? 500) >= 300) errors += 1;
          resolve(all);
        });
        res.on('error', reject);
      });
      req.on('error', reject);
      req.end(payload);
    });

  const frame = async (): Promise<void> => {
    while (performance.now() < deadline) {
      try {
        const start = JSON.parse((await call('POST', '/operation/start', body)).toString()) as { id: string };
        for (let attempt = 0; attempt < 50; attempt += 1) {
          const result = await call('GET', `/operation/result/${start.id}`);
          if (!result.subarray(0, 80).toString().includes('"pending"')) break;
          await new Promise((resolve) => setTimeout(resolve, 5));
        }
      } catch {
        errors += 1;
      }
    }
  };
  await Promise.all(Array.from({ length: frames }, frame));
  agent.destroy();
  return {
    requests: latencies.length,
    errors,
    seconds: (performance.now() - started) / 1000,
    latenciesMs: Float64Array.from(latencies).sort(),
    bytes,
  };
}

export function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number;
}

import { PassThrough } from 'node:stream';
import type { Context } from 'koa';

/** How often an idle stream gets a comment line, so proxies and phones keep it open. */
export const DEFAULT_HEARTBEAT_MS = 15_000;

/** One open Server-Sent Events response. */
export interface EventStream {
  /** Sends one event; `event` undefined sends a plain message (EventSource's `message`). */
  send(event: string | undefined, data: unknown): void;
  /** Ends the response; the client sees the stream close. Safe to call twice. */
  end(): void;
  /** Runs `cleanup` once when the stream ends, whoever ends it (us, the client, shutdown). */
  onClose(cleanup: () => void): void;
}

/**
 * The open Server-Sent Events streams of one server, so shutdown can end them: an open
 * stream would otherwise keep `server.close()` waiting for ever.
 */
export class EventStreams {
  private readonly streams = new Set<OpenStream>();
  private readonly heartbeatMs: number;

  constructor(options: { heartbeatMs?: number } = {}) {
    this.heartbeatMs = options.heartbeatMs ?? DEFAULT_HEARTBEAT_MS;
  }

  /** Turns the response into an event stream (headers, heartbeat, clean-up on disconnect). */
  open(ctx: Context): EventStream {
    const stream = new OpenStream(ctx, this.heartbeatMs, () => this.streams.delete(stream));
    this.streams.add(stream);
    return stream;
  }

  get size(): number {
    return this.streams.size;
  }

  /** Ends every open stream and resolves once their connections are closed. */
  async closeAll(): Promise<void> {
    await Promise.all([...this.streams].map((stream) => stream.endAndWait()));
  }
}

class OpenStream implements EventStream {
  private readonly body = new PassThrough();
  private readonly heartbeat: NodeJS.Timeout;
  private readonly cleanups: Array<() => void> = [];
  private readonly closed: Promise<void>;
  private ended = false;

  constructor(
    private readonly ctx: Context,
    heartbeatMs: number,
    forget: () => void,
  ) {
    ctx.status = 200;
    ctx.set('Content-Type', 'text/event-stream; charset=utf-8');
    ctx.set('Cache-Control', 'no-cache, no-transform');
    // The stream is the connection's last response: ending it closes the socket, so
    // shutdown does not wait on an idle keep-alive connection.
    ctx.set('Connection', 'close');
    // nginx and similar proxies buffer responses unless told not to.
    ctx.set('X-Accel-Buffering', 'no');
    ctx.req.socket.setNoDelay(true);
    ctx.body = this.body;
    this.heartbeat = setInterval(() => this.write(': ping\n\n'), heartbeatMs);
    this.heartbeat.unref();
    this.closed = new Promise<void>((resolve) => {
      // 'close' comes when the response has ended or the client went away, whichever first.
      ctx.res.once('close', () => {
        this.stop();
        forget();
        for (const cleanup of this.cleanups.splice(0)) {
          try {
            cleanup();
          } catch {
            // One failing clean-up must not keep the others from running.
          }
        }
        resolve();
      });
    });
  }

  send(event: string | undefined, data: unknown): void {
    // JSON.stringify never emits a raw newline, so the data always fits one `data:` line.
    this.write(`${event === undefined ? '' : `event: ${event}\n`}data: ${JSON.stringify(data)}\n\n`);
  }

  end(): void {
    this.stop();
    if (!this.body.writableEnded) this.body.end();
  }

  onClose(cleanup: () => void): void {
    this.cleanups.push(cleanup);
  }

  endAndWait(): Promise<void> {
    this.end();
    // Koa may not have started piping yet (the route has not returned): then no response
    // will ever close on its own, so the socket is closed by hand.
    if (!this.ctx.res.headersSent) this.ctx.res.destroy();
    return this.closed;
  }

  private write(text: string): void {
    if (!this.ended && !this.body.writableEnded) this.body.write(text);
  }

  private stop(): void {
    this.ended = true;
    clearInterval(this.heartbeat);
  }
}

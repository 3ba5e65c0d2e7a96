import { randomBytes } from 'node:crypto';
import type { Clock } from '../util/clock.js';
import type { Logger } from '../util/logger.js';
import type { Operation } from './operation.js';

/** Ids the frame pastes into a URL: short, URL-safe ASCII (firmware contract). */
export const OPERATION_ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;

export interface OperationStoreOptions {
  readonly clock: Clock;
  /** How long a finished operation stays answerable. The contract asks for at least an hour. */
  readonly ttlMs?: number;
  /** Upper bound on remembered operations, so memory stays bounded under any load. */
  readonly maxEntries?: number;
  /** Where a failing listener is reported; such a failure never reaches the generation. */
  readonly logger?: Logger;
}

/** What one {@link OperationStore.update} changed. */
export type OperationChange = Partial<Omit<Operation, 'id' | 'type' | 'createdAt'>>;

/** Hears every change of one operation (progress, the end), for live views like the web page's. */
export type OperationListener = (operation: Operation, change: OperationChange) => void;

/**
 * Operations by id, in creation order. Ids are random (72 bits), not time-based, so many
 * requests in the same second never collide; a collision check makes it certain.
 */
export class OperationStore {
  private readonly operations = new Map<string, Operation>();
  private readonly ttlMs: number;
  private readonly maxEntries: number;
  private readonly listeners = new Map<string, Set<OperationListener>>();

  constructor(private readonly options: OperationStoreOptions) {
    this.ttlMs = options.ttlMs ?? 2 * 60 * 60 * 1000;
    this.maxEntries = options.maxEntries ?? 10_000;
  }

  create(type: string, id?: string): Operation {
    const now = this.options.clock.now().getTime();
    let operationId = id ?? newOperationId();
    while (id === undefined && this.operations.has(operationId)) operationId = newOperationId();
    if (this.operations.size >= this.maxEntries) this.evictOldest();
    const operation: Operation = { id: operationId, type, createdAt: now, updatedAt: now, status: 'pending' };
    this.operations.set(operationId, operation);
    return operation;
  }

  get(id: string): Operation | undefined {
    return this.operations.get(id);
  }

  update(operation: Operation, change: OperationChange): void {
    Object.assign(operation, change, { updatedAt: this.options.clock.now().getTime() });
    // Preview images are for watching a generation; once it ends they only cost memory.
    if (operation.status !== 'pending' && operation.progress?.preview !== undefined) {
      const { preview: _preview, ...progress } = operation.progress;
      operation.progress = progress;
    }
    const listeners = this.listeners.get(operation.id);
    if (listeners === undefined) return;
    for (const listener of [...listeners]) {
      try {
        listener(operation, change);
      } catch (error) {
        // A listener's failure (a client gone mid-write) must never break the generation.
        this.options.logger?.error('an operation listener failed', { id: operation.id, error: (error as Error)?.stack ?? String(error) });
      }
    }
  }

  /**
   * Calls `listener` on every later change of the operation `id`. Returns the unsubscribe,
   * which callers must call when they stop listening (a client disconnects): nothing here
   * forgets a listener on its own, so a finished operation's listeners are the caller's.
   */
  subscribe(id: string, listener: OperationListener): () => void {
    let set = this.listeners.get(id);
    if (set === undefined) {
      set = new Set();
      this.listeners.set(id, set);
    }
    set.add(listener);
    return () => {
      const current = this.listeners.get(id);
      if (current === undefined) return;
      current.delete(listener);
      if (current.size === 0) this.listeners.delete(id);
    };
  }

  /** Listeners subscribed now, to one operation or to all (tests check that none leak). */
  listenerCount(id?: string): number {
    if (id !== undefined) return this.listeners.get(id)?.size ?? 0;
    let count = 0;
    for (const set of this.listeners.values()) count += set.size;
    return count;
  }

  /** Forgets finished operations older than the time-to-live. Returns how many were dropped. */
  sweep(): number {
    const cutoff = this.options.clock.now().getTime() - this.ttlMs;
    let dropped = 0;
    for (const [id, operation] of this.operations) {
      if (operation.createdAt >= cutoff) break; // insertion order is creation order
      if (operation.status === 'pending') continue;
      this.operations.delete(id);
      dropped += 1;
    }
    return dropped;
  }

  get size(): number {
    return this.operations.size;
  }

  private evictOldest(): void {
    // Prefer the oldest finished operation; a pending one only if nothing else is left.
    for (const [id, operation] of this.operations) {
      if (operation.status !== 'pending') {
        this.operations.delete(id);
        return;
      }
    }
    const oldest = this.operations.keys().next();
    if (!oldest.done) this.operations.delete(oldest.value);
  }
}

export function newOperationId(): string {
  return randomBytes(9).toString('base64url');
}

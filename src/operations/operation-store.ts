import { randomBytes } from 'node:crypto';
import type { Clock } from '../util/clock.js';
import type { Operation } from './operation.js';

/** Ids the frame pastes into a URL: short, URL-safe ASCII (firmware contract). */
export const OPERATION_ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;

export interface OperationStoreOptions {
  readonly clock: Clock;
  /** How long a finished operation stays answerable. The contract asks for at least an hour. */
  readonly ttlMs?: number;
  /** Upper bound on remembered operations, so memory stays bounded under any load. */
  readonly maxEntries?: number;
}

/**
 * Operations by id, in creation order. Ids are random (72 bits), not time-based, so many
 * requests in the same second never collide; a collision check makes it certain.
 */
export class OperationStore {
  private readonly operations = new Map<string, Operation>();
  private readonly ttlMs: number;
  private readonly maxEntries: number;

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

  update(operation: Operation, change: Partial<Omit<Operation, 'id' | 'type' | 'createdAt'>>): void {
    Object.assign(operation, change, { updatedAt: this.options.clock.now().getTime() });
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

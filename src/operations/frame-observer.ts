import type { PictureSource } from './operation.js';

/**
 * What the frame service reports as it works, for metrics and the status page. Every method
 * is optional to implement and must be cheap: it runs on the request path.
 */
export interface FrameObserver {
  /** A generation ended. `seconds` is the provider's wall time. */
  generationFinished?(event: { readonly providerId: string; readonly outcome: 'success' | 'failure'; readonly seconds: number }): void;
  /** A result with an image was sent to a client. */
  pictureSent?(event: { readonly source: PictureSource }): void;
}

/**
 * Whether a start is answered from the library or by a provider. A pure function of what
 * the caller knows now, so every rule is unit-tested without a server.
 */

/** The `type` keywords of the frame protocol. Any other value names a provider by id. */
export const START_KEYWORDS = ['auto', 'old', 'ydart'] as const;

/** What the decision needs to know about a provider that may be called now. */
export interface CandidateProvider {
  readonly id: string;
  readonly acceptsPrompt: boolean;
}

export interface DecisionInput {
  /** `auto`, `old`, `ydart`, or a provider id. */
  readonly type: string;
  /** The client sent a prompt of its own. */
  readonly hasPrompt: boolean;
  readonly libraryEmpty: boolean;
  /** `image_generate_threshold` minutes have passed since the last provider call. */
  readonly thresholdPassed: boolean;
  /**
   * Providers that are ready by every rule right now. Read only when the answer may be a
   * generation, so a caller can make it a getter and skip the rule checks otherwise.
   */
  readonly ready: readonly CandidateProvider[];
  /** Set while quiet hours (top-level `sleep_time`) are on. */
  readonly quiet?: { readonly blackImage: boolean };
}

export type Decision =
  | { readonly action: 'library'; readonly reason: string }
  | { readonly action: 'black'; readonly reason: string }
  | { readonly action: 'generate'; readonly providers: readonly string[]; readonly reason: string };

export function decide(input: DecisionInput): Decision {
  const usable = (): readonly CandidateProvider[] =>
    input.hasPrompt ? input.ready.filter((provider) => provider.acceptsPrompt) : input.ready;
  const generate = (reason: string): Decision => {
    const ids = usable().map((provider) => provider.id);
    return ids.length > 0 ? { action: 'generate', providers: ids, reason } : library(`${reason}, but no provider is ready`);
  };

  switch (input.type) {
    case 'old':
      return input.libraryEmpty ? generate('the library is empty') : library('a stored picture was asked for');
    case 'ydart':
      // Historical name: "a new picture from any generator now, not from the cache".
      return generate('a new picture was asked for');
    case 'auto':
      // Quiet hours (upstream rule): the frame's timer gets no new picture; the buttons still do.
      if (input.quiet?.blackImage) return { action: 'black', reason: 'quiet hours with black_image_mode' };
      if (input.libraryEmpty) return generate('the library is empty');
      if (input.quiet) return library('quiet hours');
      if (input.hasPrompt) return generate('a prompt was given');
      if (input.thresholdPassed) return generate('the generate threshold has passed');
      return library('the generate threshold has not passed yet');
    default: {
      const named = usable().find((provider) => provider.id === input.type);
      return named
        ? { action: 'generate', providers: [named.id], reason: `provider ${named.id} was asked for` }
        : library(`provider ${input.type} is not ready`);
    }
  }
}

function library(reason: string): Decision {
  return { action: 'library', reason };
}

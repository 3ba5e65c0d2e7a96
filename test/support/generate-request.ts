import type { GenerateRequest, GenerationProgress, ResumeSlot } from '../../src/providers/types.js';

/** A GenerateRequest for calling a provider directly, recording the progress it reports. */
export function generateRequest(overrides: Partial<GenerateRequest> = {}): GenerateRequest & { readonly progress: GenerationProgress[] } {
  const progress: GenerationProgress[] = [];
  let saved: unknown;
  const resume: ResumeSlot = {
    load: () => saved,
    save: async (state) => {
      saved = state;
    },
  };
  return {
    prompt: 'a lighthouse on a cliff at dawn',
    seed: 424242,
    width: 320,
    height: 480,
    signal: new AbortController().signal,
    onProgress: (update) => progress.push(update),
    resume,
    ...overrides,
    progress,
  };
}

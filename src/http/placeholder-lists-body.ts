import { z } from 'zod';
import { reservedNameReason } from '../prompts/prompt-validation.js';

/**
 * The shape of `placeholders` in a request body: `{"name": ["value", ...]}`. Reserved names
 * (`__proto__`, `constructor`, `prototype`) are refused here, before zod reads the record:
 * zod strips a `__proto__` key from its output, so the store would never see it and the
 * list would vanish without a word. Values and other names are PromptStore's rules.
 */
export const placeholderListsBody = z
  .unknown()
  .superRefine((value, ctx) => {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return;
    for (const name of Object.keys(value)) {
      const reason = reservedNameReason(name);
      if (reason !== undefined) ctx.addIssue({ code: 'custom', path: [name], message: reason });
    }
  })
  .pipe(
    z.record(z.string(), z.array(z.string({ error: 'expected a list of strings' }), { error: 'expected a list of strings' }), {
      error: 'expected an object of lists, like {"color": ["red", "blue"]}',
    }),
  );

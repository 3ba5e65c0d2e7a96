import { z } from 'zod';
import { jsonBodyAs } from './parse-answer.js';
import { bodyExcerpt } from './remote-error.js';
import type { RemoteResponse } from './remote-http.js';

const fastApiDetail = z.object({
  detail: z.union([
    z.string(),
    z.array(z.object({ loc: z.array(z.union([z.string(), z.number()])).optional(), msg: z.string().optional() })),
  ]),
});

/**
 * The reason in a FastAPI error body (`{"detail": "..."}`, or a 422's `{"detail": [{loc,
 * msg}]}`) as `: field: message`, for {@link httpStatusError}; undefined for other bodies.
 * Several generators are FastAPI apps (Fooocus-API, FooocusAPI, the Qwen-Image service).
 */
export function fastApiDetailReason(response: Pick<RemoteResponse, 'body'>): string | undefined {
  const parsed = jsonBodyAs(fastApiDetail, response.body);
  if (parsed === undefined) return undefined;
  const { detail } = parsed;
  if (typeof detail === 'string') return `: ${bodyExcerpt(detail)}`;
  const first = detail[0];
  if (!first) return undefined;
  // loc starts with where the value was ("body", "query"): the rest names the field.
  const field = (first.loc ?? []).filter((part) => part !== 'body' && part !== 'query').join('.');
  return `: ${field === '' ? '' : `${field}: `}${bodyExcerpt(first.msg ?? 'invalid')}`;
}

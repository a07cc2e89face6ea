/**
 * Why a documented listener may rightly be absent: the document's prose makes it depend on
 * something the State column does not show. Apart from the schema (model.ts) so that checking a
 * policy's rows does not load zod.
 */
export const CONDITION_KINDS = ['ha', 'localhost-only', 'feature', 'role', 'legacy', 'client-side', 'multicast'] as const;

/**
 * The zod API Timebox uses, re-exported by name. `import * as z from '../lib/zod'` reads like
 * `import { z } from 'zod'`, but lets esbuild drop what is unused: zod's own `z` namespace drags
 * in every locale (about 360 KB minified), which the Lambda bundles then carry to every cold start.
 */
export { array, boolean, core, discriminatedUnion, enum, literal, NEVER, number, object, record, strictObject, string, union, unknown, url } from 'zod';
export type { infer, ZodType } from 'zod';

import { Type } from '../../plugin/schema-type.ts';
import { hasCombiningMark, trimmed } from '../text.ts';
import {
  compileContainerStep,
  compileFieldStep,
  defineOp,
  fieldOrFields,
  fieldsOf,
  keepingStrings,
  opSchema,
  type MapCtx,
} from './common.ts';

/**
 * trim: removes surrounding whitespace from string fields (all string fields of the container when no
 * `field(s)` are given); `nfc: true` also composes Vietnamese to Unicode NFC, so a decomposed name does not
 * count extra characters against a maxLength. Seed 004's FileQuyetDinh example sends
 * `"Url": " https://… "` and `"HoVaTen": " Nguyễn Văn An "`.
 */
export const trimOp = defineOp(
  opSchema({ ...fieldOrFields, nfc: Type.Boolean({ default: false }) }, { not: { required: ['field', 'fields'] } }),
  (o, { path, bodyStringsOnly }) => {
    // Decomposed Vietnamese always carries a combining mark (U+0300-U+036F); only then is ICU's
    // normalize worth its cost (~0.1 µs a string). trimmed/hasCombiningMark (text.ts) skip the calls a
    // string does not need: most need none.
    const withNfc = (s: string): string => {
      const t = trimmed(s);
      return hasCombiningMark(t) ? t.normalize('NFC') : t;
    };
    // Where the caller's bytes held no combining mark (BodyFacts) and every string here came from them, the
    // scan of each string is spared too (issue 19: it was ~15% of map + validate of a MOLISA body).
    const cleaner = (ctx: MapCtx): ((s: string) => string) =>
      o.nfc && !(bodyStringsOnly === true && ctx.noCombiningMarks === true) ? withNfc : trimmed;
    const fields = fieldsOf(o, path);
    if (fields.length > 0) {
      return keepingStrings(
        compileFieldStep(o.at, fields, path, (obj, key, _trail, ctx) => {
          const v = obj[key];
          if (typeof v === 'string' && Object.hasOwn(obj, key)) obj[key] = cleaner(ctx)(v);
        }),
      );
    }
    return keepingStrings(
      compileContainerStep(o.at, path, (obj, _trail, ctx) => {
        const clean = cleaner(ctx);
        // for-in, not Object.keys: no key array per record, and V8 reads each value by its field index (the
        // loop was ~35% cheaper on MOLISA records, issue 19). Only own keys are written, as before.
        for (const key in obj) {
          const v = obj[key];
          if (typeof v === 'string') {
            const c = clean(v);
            if (c !== v && Object.hasOwn(obj, key)) obj[key] = c;
          }
        }
        return obj;
      }),
    );
  },
);

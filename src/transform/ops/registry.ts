import { allowOnlyOp } from './allow-only.ts';
import { codelistOp } from './codelist.ts';
import type { BaseOptions, MappingOp } from './common.ts';
import { dateOp } from './date.ts';
import { dropOp } from './drop.ts';
import { embeddedJsonOp } from './embedded-json.ts';
import { renameOp } from './rename.ts';
import { constantOp, defaultOp } from './set-values.ts';
import { trimOp } from './trim.ts';

/** Every mapping op by its YAML name (`op:`); adding one = one file + one line here. */
export const mappingOps: Readonly<Record<string, MappingOp<BaseOptions>>> = Object.freeze({
  rename: renameOp as unknown as MappingOp<BaseOptions>,
  drop: dropOp as unknown as MappingOp<BaseOptions>,
  default: defaultOp as unknown as MappingOp<BaseOptions>,
  constant: constantOp as unknown as MappingOp<BaseOptions>,
  codelist: codelistOp as unknown as MappingOp<BaseOptions>,
  date: dateOp as unknown as MappingOp<BaseOptions>,
  embeddedJson: embeddedJsonOp as unknown as MappingOp<BaseOptions>,
  trim: trimOp as unknown as MappingOp<BaseOptions>,
  allowOnly: allowOnlyOp as unknown as MappingOp<BaseOptions>,
});

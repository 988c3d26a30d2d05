import { allowOnlyOp } from './allow-only.ts';
import { codelistOp } from './codelist.ts';
import type { Registry } from '../../plugin/plugin.ts';
import type { CompiledOp, OpDeps } from './common.ts';
import { dateOp } from './date.ts';
import { dropOp } from './drop.ts';
import { embeddedJsonOp } from './embedded-json.ts';
import { renameOp } from './rename.ts';
import { constantOp, defaultOp } from './set-values.ts';
import { trimOp } from './trim.ts';

/** Every mapping op by its YAML name (`op:`); adding one = one file + one line here. */
export const mappingOps: Registry<OpDeps, CompiledOp> = Object.freeze({
  rename: renameOp,
  drop: dropOp,
  default: defaultOp,
  constant: constantOp,
  codelist: codelistOp,
  date: dateOp,
  embeddedJson: embeddedJsonOp,
  trim: trimOp,
  allowOnly: allowOnlyOp,
});

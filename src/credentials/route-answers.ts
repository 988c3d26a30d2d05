import type { Clock } from '../config/types.ts';
import type { Registry } from '../plugin/plugin.ts';
import { molisaCompatToken, type MolisaCompatAnswer } from './molisa-compat-token.ts';

/** Route answers by the `type` of a route's `answer:` block: the gateway answers the call itself. */
export const routeAnswers: Registry<{ clock: Clock }, (body: unknown) => MolisaCompatAnswer> = {
  'molisa-compat-token': molisaCompatToken,
};

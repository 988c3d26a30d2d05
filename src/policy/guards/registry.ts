import type { Registry } from '../../plugin/plugin.ts';
import type { GuardDeps, RequestGuard } from './guard.ts';
import { ledgerModuleGuard } from './ledger-module.ts';

/** Request guards by the `type` of an entry of a route's `guards:`. */
export const requestGuards: Registry<GuardDeps, RequestGuard> = {
  'ledger-module': ledgerModuleGuard,
};

import type { Subcommand } from '../subcommand';
import { policyCheck } from './policy-check';
import { policyExplain } from './policy-explain';
import { policyMatrix } from './policy-matrix';

/** Every `timebox` subcommand, in the order --help lists them. */
export const SUBCOMMANDS: Subcommand[] = [policyCheck, policyExplain, policyMatrix];

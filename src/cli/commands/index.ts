import type { Subcommand } from '../subcommand';
import { policyCheck } from './policy-check';
import { policyExplain } from './policy-explain';
import { policyMatrix } from './policy-matrix';
import { auditExport } from './audit-export';
import { auditVerify } from './audit-verify';

/** Every `timebox` subcommand, in the order --help lists them. */
export const SUBCOMMANDS: Subcommand[] = [policyCheck, policyExplain, policyMatrix, auditExport, auditVerify];

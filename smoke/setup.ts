// Global setup of the smoke tests: the run is resolved once and provided to the specs and the reporter
// (lib/harness/phase-setup.ts), and the gate's earlier decision in the reports folder is withdrawn as the phase
// starts, because the evidence it was made from is about to change (gonogo/withdraw.ts).
export { startPhase as default } from '../gonogo/withdraw.js';

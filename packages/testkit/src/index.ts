/**
 * @packageDocumentation
 * Test-only tools: a seeded network simulator, a deterministic Raft cluster simulation with
 * safety invariants checked after every step, and a Wing–Gong/Porcupine linearizability
 * checker with a key-value register model.
 *
 * ```ts
 * import { runSimulation } from '@tessera/testkit';
 * const report = runSimulation({ seed: 42, nodeCount: 3, stepCount: 2000 });
 * // throws SimulationFailure('SEED=42 ...') on any violation; the same seed replays it
 * ```
 */
export type { CheckOptions, HistoryOperation, LinearizabilityResult, SequentialModel } from './linearizability';
export { checkLinearizability } from './linearizability';
export type { KvInput, KvOperation, KvOutput } from './kv-model';
export { kvRegisterModel } from './kv-model';
export type { KvCommand } from './kv-state-machine';
export { KvStateMachine, decodeKvCommand, encodeKvCommand } from './kv-state-machine';
export type { SimNetworkOptions, SimNetworkStats } from './sim-network';
export { SimNetwork } from './sim-network';
export { InvariantChecker, InvariantViolation } from './invariant-checker';
export type { SimulationFaults, SimulationOptions, SimulationReport } from './simulator';
export { Simulation, SimulationFailure, runSimulation } from './simulator';

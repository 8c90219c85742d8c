import type { KvInput, KvOutput } from './kv-model';

/** A client command as proposed to Raft: the session (clientId, sequence) makes retries safe. */
export interface KvCommand {
  readonly clientId: number;
  readonly sequence: number;
  readonly input: KvInput;
}

const textEncoder = new TextEncoder();
const textDecoder = new TextDecoder();

export function encodeKvCommand(command: KvCommand): Uint8Array {
  return textEncoder.encode(JSON.stringify(command));
}

export function decodeKvCommand(data: Uint8Array): KvCommand {
  return JSON.parse(textDecoder.decode(data)) as KvCommand;
}

/**
 * The simulated host's replicated state machine: registers plus a client session table, so a
 * command retried after a timeout is applied at most once and the retry gets the first
 * outcome (thesis §6.3, "implementing linearizable semantics").
 */
export class KvStateMachine {
  private values = new Map<string, string>();
  private sessions = new Map<number, { sequence: number; output: KvOutput }>();

  /** Applies a command; returns its outcome (the remembered one for a duplicate). */
  apply(command: KvCommand): KvOutput {
    const session = this.sessions.get(command.clientId);
    if (session !== undefined && command.sequence <= session.sequence) return session.output;
    const output = this.execute(command.input);
    this.sessions.set(command.clientId, { sequence: command.sequence, output });
    return output;
  }

  private execute(input: KvInput): KvOutput {
    switch (input.kind) {
      case 'read':
        return { kind: 'read', value: this.read(input.key) };
      case 'write':
        this.values.set(input.key, input.value);
        return { kind: 'write' };
      case 'cas': {
        const swapped = this.read(input.key) === input.expected;
        if (swapped) this.values.set(input.key, input.value);
        return { kind: 'cas', swapped };
      }
    }
  }

  read(key: string): string | null {
    return this.values.get(key) ?? null;
  }

  serialize(): Uint8Array {
    return textEncoder.encode(JSON.stringify({ values: [...this.values], sessions: [...this.sessions] }));
  }

  static deserialize(data: Uint8Array): KvStateMachine {
    const machine = new KvStateMachine();
    if (data.length === 0) return machine;
    const parsed = JSON.parse(textDecoder.decode(data)) as {
      values: [string, string][];
      sessions: [number, { sequence: number; output: KvOutput }][];
    };
    machine.values = new Map(parsed.values);
    machine.sessions = new Map(parsed.sessions);
    return machine;
  }
}

import { keep } from '../tensor/memory.js';
import type { Tensor } from '../tensor/tensor.js';

// Module buffers (BatchNorm's running statistics and batch count) as state threaded through a
// compiled program, as the parameters are in a training step: the buffers are inputs, the
// forward pass's writes (setBuffer with traced values) are outputs, and each call rebinds the
// module's buffers to them. While the function is traced the buffer slots hold the program's
// input tracers, so that a module reads and replaces them like concrete tensors; the slots get
// their tensors back afterwards. Buffers of modules in training mode (those that update them)
// are donated, so the update may be written into their memory; those of modules in evaluation
// mode are read-only inputs, and a write to one (a module that updates state in eval mode) is
// returned and rebound without donation.

/** What compile needs of a module to thread its buffers: `nn.Module` has it. */
export interface BufferOwner {
  /** Training mode: its buffers are donated (they are expected to be updated). */
  readonly training?: boolean;
  _ownEntries(): { readonly buffers: readonly (readonly [string, Tensor, boolean])[] };
  _swapBuffer(name: string, value: Tensor | null): Tensor | null;
}

/** A module tree whose buffers a compiled call threads. */
export interface BufferTree {
  /** Every module of the tree, itself included. */
  modules?(): readonly BufferOwner[];
}

interface Slot {
  readonly owner: BufferOwner;
  readonly name: string;
}

/** The buffers as a call passes them: donated (training-mode owners) and read-only. */
export interface BufferArguments {
  readonly donated: Tensor[];
  /** Read-only buffers, and the slots' layout and modes (part of the cache key). */
  readonly kept: { readonly tensors: Tensor[]; readonly layout: string };
}

/** What a traced call returns for the buffers: every donated one, and the read-only ones it wrote (others null). */
export interface BufferResults {
  readonly donated: Tensor[];
  readonly kept: (Tensor | null)[];
}

/** The buffer slots of some modules, read and written around compiled calls. */
export class ModuleBuffers {
  private donatedSlots: Slot[] = [];
  private keptSlots: Slot[] = [];
  /** Further slots holding a threaded tensor (one tensor registered twice), with its index among donated then kept. */
  private aliases: [Slot, number][] = [];
  /** The tensors installed while tracing, to tell written read-only slots from untouched ones. */
  private installed: Tensor[] = [];

  constructor(private readonly trees: readonly BufferTree[]) {}

  /** The current buffers, split by their owners' mode (the slots are re-read on every call). */
  read(): BufferArguments {
    const owners = new Set<BufferOwner>();
    for (const tree of this.trees) if (typeof tree.modules === 'function') for (const m of tree.modules()) owners.add(m);
    const donatedSlots: Slot[] = [];
    const keptSlots: Slot[] = [];
    const donated: Tensor[] = [];
    const kept: Tensor[] = [];
    const seen = new Map<Tensor, [boolean, number]>();
    const aliasesOf: [Slot, Tensor][] = [];
    let layout = '';
    for (const owner of owners) {
      for (const [name, value] of owner._ownEntries().buffers) {
        // A tensor registered in two slots is threaded once, and both slots get the result.
        if (seen.has(value)) {
          aliasesOf.push([{ owner, name }, value]);
          continue;
        }
        const training = owner.training === true;
        seen.set(value, [training, training ? donated.length : kept.length]);
        (training ? donatedSlots : keptSlots).push({ owner, name });
        (training ? donated : kept).push(value);
        layout += training ? 't' : 'e';
      }
    }
    this.donatedSlots = donatedSlots;
    this.keptSlots = keptSlots;
    this.aliases = aliasesOf.map(([slot, value]) => {
      const [training, index] = seen.get(value) as [boolean, number];
      layout += training ? `=${index}` : `=e${index}`;
      return [slot, training ? index : donated.length + index];
    });
    return { donated, kept: { tensors: kept, layout } };
  }

  /** Puts the traced buffers into the slots read last; returns the function that puts the tensors back. */
  install(buffers: BufferArguments): () => void {
    const slots = [...this.donatedSlots, ...this.keptSlots];
    const values = [...buffers.donated, ...buffers.kept.tensors];
    this.installed = values;
    const all: [Slot, Tensor][] = [...slots.map((s, i): [Slot, Tensor] => [s, values[i] as Tensor])];
    for (const [slot, index] of this.aliases) all.push([slot, values[index] as Tensor]);
    const previous = all.map(([s, value]) => s.owner._swapBuffer(s.name, value));
    return () => {
      all.forEach(([s], i) => {
        s.owner._swapBuffer(s.name, previous[i] ?? null);
      });
    };
  }

  /** The slots' values now (after the traced forward pass): every donated slot, and the written read-only ones. */
  snapshot(): BufferResults {
    // A slot the pass emptied (set to null) keeps its value: buffers are replaced, not removed, here.
    const current = (s: Slot, index: number): Tensor =>
      s.owner._ownEntries().buffers.find(([name]) => name === s.name)?.[1] ?? (this.installed[index] as Tensor);
    const keptStart = this.donatedSlots.length;
    return {
      donated: this.donatedSlots.map(current),
      kept: this.keptSlots.map((s, i) => {
        const value = current(s, keptStart + i);
        return value === this.installed[keptStart + i] ? null : value;
      }),
    };
  }

  /**
   * Rebinds the slots to a call's results. The donated buffers were consumed by the call (or,
   * for a call the tape records, which consumes nothing, are replaced now as setBuffer would);
   * the results leave the tape, since buffers are not differentiated.
   */
  write(before: BufferArguments, results: BufferResults): void {
    const rebind = (slot: Slot, old: Tensor, value: Tensor): void => {
      if (value._autograd !== null) value._autograd = null;
      keep(value);
      slot.owner._swapBuffer(slot.name, value);
      if (old !== value) old.dispose();
    };
    this.donatedSlots.forEach((s, i) => {
      rebind(s, before.donated[i] as Tensor, results.donated[i] as Tensor);
    });
    this.keptSlots.forEach((s, i) => {
      const value = results.kept[i];
      if (value !== null && value !== undefined) rebind(s, before.kept.tensors[i] as Tensor, value);
    });
    const donatedCount = this.donatedSlots.length;
    for (const [slot, index] of this.aliases) {
      const value = index < donatedCount ? results.donated[index] : results.kept[index - donatedCount];
      if (value !== null && value !== undefined) slot.owner._swapBuffer(slot.name, value);
    }
  }
}

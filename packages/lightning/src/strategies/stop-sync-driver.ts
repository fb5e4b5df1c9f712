import type { CheckpointHost, LoopDriver } from '../stream/loop-driver.js';
import type { Strategy } from './strategy.js';

/**
 * The loop's driver under a distributed strategy: at every step boundary the ranks agree
 * whether to go on, so that a stop asked for on any rank (early stopping, an unsubscribe) stops
 * every rank at the same boundary instead of leaving the others waiting in the next collective.
 */
export class StopSyncDriver implements LoopDriver {
  private peerStop: string | undefined;

  constructor(
    private readonly inner: LoopDriver,
    private readonly strategy: Strategy,
  ) {}

  emit(event: Parameters<LoopDriver['emit']>[0]): void {
    this.inner.emit(event);
  }

  get cancelled(): boolean {
    return this.inner.cancelled;
  }

  get stopReason(): string | undefined {
    return this.inner.stopReason ?? this.peerStop;
  }

  clearStop(): void {
    this.inner.clearStop();
    this.peerStop = undefined;
  }

  attach(host: CheckpointHost): void {
    this.inner.attach(host);
  }

  async boundary(): Promise<boolean> {
    const go = await this.inner.boundary();
    const anyStop = this.strategy.reduceStop(!go);
    if (go && anyStop) this.peerStop = 'another rank asked to stop';
    return go && !anyStop;
  }
}

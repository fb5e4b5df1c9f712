// Strategies: how the Trainer spreads training over processes. See docs/distributed.md.
export { DDPStrategy, type DDPStrategyOptions } from './ddp.js';
export { setSamplerEpoch, shardLoader } from './shard.js';
export { StopSyncDriver } from './stop-sync-driver.js';
export { SingleDeviceStrategy, type Strategy } from './strategy.js';

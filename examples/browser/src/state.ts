// The page's state as scripts that drive it see it (window.__flint); no imports, so tests can
// share the type without pulling in the page.

/** What the page shows, kept where a test (or the console) can read it. */
export interface PageState {
  status: 'loading' | 'training' | 'done' | 'error';
  backend: 'webgpu' | 'cpu' | null;
  /** The WebGPU adapter (vendor, architecture, device), or what the CPU backend runs on. */
  adapter: string | null;
  /** Why WebGPU was not used, when the page fell back to the CPU. */
  fallbackReason: string | null;
  /** The loss of every training step so far. */
  losses: number[];
  /** Fraction of the test digits classified correctly, once training is done. */
  accuracy: number | null;
  error: string | null;
}

// A live loss chart on a canvas: the loss of every step as a line, with the axis labels the eye
// needs (largest loss, step count). Redrawn whole on every step; a few hundred points cost nothing.

export interface ChartOptions {
  readonly line?: string;
  readonly grid?: string;
  readonly text?: string;
}

export class LossChart {
  readonly #canvas: HTMLCanvasElement;
  readonly #options: Required<ChartOptions>;
  readonly #losses: number[] = [];

  constructor(canvas: HTMLCanvasElement, options: ChartOptions = {}) {
    this.#canvas = canvas;
    this.#options = { line: '#d94f1e', grid: '#d8d8d8', text: '#444', ...options };
    this.draw();
  }

  push(loss: number): void {
    this.#losses.push(loss);
    this.draw();
  }

  draw(): void {
    const context = this.#canvas.getContext('2d');
    if (context === null) return;
    const { width, height } = this.#canvas;
    const left = 44;
    const bottom = height - 22;
    const top = 10;
    const right = width - 10;
    context.clearRect(0, 0, width, height);
    context.font = '12px system-ui, sans-serif';
    context.fillStyle = this.#options.text;
    context.strokeStyle = this.#options.grid;
    const peak = Math.max(1e-6, ...this.#losses.filter(Number.isFinite));
    for (const fraction of [0, 0.25, 0.5, 0.75, 1]) {
      const y = bottom - fraction * (bottom - top);
      context.beginPath();
      context.moveTo(left, y);
      context.lineTo(right, y);
      context.stroke();
      context.fillText((peak * fraction).toFixed(2), 4, y + 4);
    }
    const steps = Math.max(this.#losses.length - 1, 1);
    context.fillText(`step ${this.#losses.length}`, right - 60, height - 6);
    if (this.#losses.length === 0) return;
    context.strokeStyle = this.#options.line;
    context.lineWidth = 2;
    context.beginPath();
    this.#losses.forEach((loss, step) => {
      const x = left + (step / steps) * (right - left);
      const y = bottom - (Math.min(loss, peak) / peak) * (bottom - top);
      if (step === 0) context.moveTo(x, y);
      else context.lineTo(x, y);
    });
    context.stroke();
    context.lineWidth = 1;
  }
}

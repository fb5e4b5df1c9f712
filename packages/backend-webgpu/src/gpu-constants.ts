// The numeric flags of the WebGPU spec. In browsers they are also globals (GPUBufferUsage...), but
// Dawn for Node exports them only through its `globals` object, which Flint does not install on
// globalThis; the values are fixed by the spec, so they are spelled out here.

export const BUFFER_USAGE = {
  MAP_READ: 0x0001,
  MAP_WRITE: 0x0002,
  COPY_SRC: 0x0004,
  COPY_DST: 0x0008,
  INDEX: 0x0010,
  VERTEX: 0x0020,
  UNIFORM: 0x0040,
  STORAGE: 0x0080,
  INDIRECT: 0x0100,
  QUERY_RESOLVE: 0x0200,
} as const;

export const MAP_MODE = { READ: 0x0001, WRITE: 0x0002 } as const;

export const SHADER_STAGE = { VERTEX: 0x1, FRAGMENT: 0x2, COMPUTE: 0x4 } as const;

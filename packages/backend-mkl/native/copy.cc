// Strided views to contiguous arrays: what reads of non-contiguous views, and the kernels that
// need packed operands, are built on.
#include "common.h"
#include "ops.h"

namespace flint {

template <typename T>
static void copyElements(const View& view, T* out) {
  int64_t contiguousStrides[kMaxRank];
  int64_t stride = 1;
  for (int d = view.rank - 1; d >= 0; d--) {
    contiguousStrides[d] = stride;
    stride *= view.shape[d];
  }
  const int64_t* strides[2] = {view.strides, contiguousStrides};
  const StridedLoop<2> loop(view.rank, view.shape, strides);
  const T* in = view.data<T>();
  const int64_t start[2] = {view.offset, 0};
  loop.forEachRun(start, [&](const int64_t* at, const int64_t* step, int64_t count) {
    const T* source = in + at[0];
    T* target = out + at[1];
    const int64_t s = step[0];
    if (s == 1) std::memcpy(target, source, static_cast<size_t>(count) * sizeof(T));
    else if (s == 2)  // a constant stride the compiler vectorizes (every other element: pooling's windows)
      for (int64_t i = 0; i < count; i++) target[i] = source[2 * i];
    else
      for (int64_t i = 0; i < count; i++) target[i] = source[i * s];
  });
}

void copyToContiguous(const View& view, void* out) {
  switch (itemSize(view.dtype)) {
    case 8:
      copyElements(view, static_cast<uint64_t*>(out));
      return;
    case 4:
      copyElements(view, static_cast<uint32_t*>(out));
      return;
    case 2:
      copyElements(view, static_cast<uint16_t*>(out));
      return;
    default:
      copyElements(view, static_cast<uint8_t*>(out));
      return;
  }
}

const void* contiguousOrCopy(const View& view, std::vector<char>& storage) {
  if (view.contiguous()) return view.base + view.offset * static_cast<int64_t>(itemSize(view.dtype));
  storage.resize(static_cast<size_t>(view.size) * itemSize(view.dtype));
  copyToContiguous(view, storage.data());
  return storage.data();
}

// copy(dtype, data, layout, out): out receives the view's elements in row-major order.
Napi::Value Copy(const Napi::CallbackInfo& info) {
  checkArgs(info, 4, "copy");
  const int dtype = dtypeArg(info, 0, "copy", 0x7f);
  const View view = viewArg(info, 1, 2, dtype, "copy", "input");
  const Output out = outputArg(info, 3, dtype, view.size, "copy");
  if (view.size > 0) copyToContiguous(view, out.base);
  return info.Env().Undefined();
}

}  // namespace flint

// oneDNN's batch norm (training forward and backward) on each layout it could run in: plain nchw
// as the callers' arrays lie, or nhwc, nChw8c, nChw16c with the reorders from and back to nchw
// that the addon would add (printed with and without them), and the implementation oneDNN picks
// for each. native/batch_norm.cc ran the fastest of these until its loops over nchw replaced them
// (docs/backend-mkl.md, "Batch norm").
//   g++ -O2 -std=c++17 -fopenmp packages/backend-mkl/bench/onednn-batch-norm.cc -ldnnl -o /tmp/onednn-batch-norm
//   OMP_NUM_THREADS=1 /tmp/onednn-batch-norm 64 32 28 28  64 64 14 14  128 256 1 1
// Arguments: N C H W for each shape (rank 2 as N C 1 1). Medians of 60 calls after 5.
#include <dnnl.hpp>
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <vector>

using namespace dnnl;
using tag = memory::format_tag;

static double now() { return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now().time_since_epoch()).count(); }

template <typename F>
double median(F run) {
  for (int i = 0; i < 5; i++) run();
  std::vector<double> times;
  for (int i = 0; i < 60; i++) {
    const double start = now();
    run();
    times.push_back(now() - start);
  }
  std::sort(times.begin(), times.end());
  return times[times.size() / 2];
}

int main(int argc, char** argv) {
  engine cpu(engine::kind::cpu, 0);
  stream s(cpu);
  const auto flags = normalization_flags::use_scale | normalization_flags::use_shift;
  for (int a = 1; a + 3 < argc; a += 4) {
    const memory::dims dims = {atol(argv[a]), atol(argv[a + 1]), atol(argv[a + 2]), atol(argv[a + 3])};
    const memory::dim channels = dims[1];
    const size_t size = static_cast<size_t>(dims[0] * dims[1] * dims[2] * dims[3]);
    std::vector<float> x(size), g(size), y(size), dx(size), weight(channels, 1.5f), bias(channels, 0.2f), mean(channels),
        variance(channels), dWeight(channels), dBias(channels);
    for (size_t i = 0; i < size; i++) {
      x[i] = std::sin(i * 0.37f) * 2 + 0.5f;
      g[i] = std::cos(i * 0.11f);
    }
    const memory::desc plain(dims, memory::data_type::f32, tag::nchw);
    const memory::desc vector({channels}, memory::data_type::f32, tag::a);
    memory userX(plain, cpu, x.data()), userG(plain, cpu, g.data()), userY(plain, cpu, y.data()), userDx(plain, cpu, dx.data());
    memory w(vector, cpu, weight.data()), b(vector, cpu, bias.data()), m(vector, cpu, mean.data()), v(vector, cpu, variance.data()),
        dw(vector, cpu, dWeight.data()), db(vector, cpu, dBias.data());
    for (const tag layout : {tag::nchw, tag::nhwc, tag::nChw8c, tag::nChw16c}) {
      const memory::desc data(dims, memory::data_type::f32, layout);
      const batch_normalization_forward::primitive_desc forwardDesc({prop_kind::forward_training, data, 1e-5f, flags}, cpu);
      const batch_normalization_backward::primitive_desc backwardDesc({prop_kind::backward, data, data, 1e-5f, flags}, cpu, forwardDesc);
      const batch_normalization_forward forward(forwardDesc);
      const batch_normalization_backward backward(backwardDesc);
      const bool reorders = data != plain;
      memory X = reorders ? memory(data, cpu) : userX, G = reorders ? memory(data, cpu) : userG;
      memory Y = reorders ? memory(data, cpu) : userY, Dx = reorders ? memory(data, cpu) : userDx;
      reorder in, out;
      if (reorders) {
        in = reorder(userX, X);
        out = reorder(Y, userY);
      }
      const auto runForward = [&] {
        forward.execute(s, {{DNNL_ARG_SRC, X}, {DNNL_ARG_DST, Y}, {DNNL_ARG_MEAN, m}, {DNNL_ARG_VARIANCE, v}, {DNNL_ARG_SCALE, w}, {DNNL_ARG_SHIFT, b}});
      };
      const auto runBackward = [&] {
        backward.execute(s, {{DNNL_ARG_SRC, X},
                             {DNNL_ARG_MEAN, m},
                             {DNNL_ARG_VARIANCE, v},
                             {DNNL_ARG_DIFF_DST, G},
                             {DNNL_ARG_SCALE, w},
                             {DNNL_ARG_SHIFT, b},
                             {DNNL_ARG_DIFF_SRC, Dx},
                             {DNNL_ARG_DIFF_SCALE, dw},
                             {DNNL_ARG_DIFF_SHIFT, db}});
      };
      const double forwardAlone = median([&] {
        runForward();
        s.wait();
      });
      const double forwardStaged = median([&] {
        if (reorders) in.execute(s, userX, X);
        runForward();
        if (reorders) out.execute(s, Y, userY);
        s.wait();
      });
      const double backwardAlone = median([&] {
        runBackward();
        s.wait();
      });
      const double backwardStaged = median([&] {
        if (reorders) {
          in.execute(s, userX, X);
          in.execute(s, userG, G);
        }
        runBackward();
        if (reorders) out.execute(s, Dx, userDx);
        s.wait();
      });
      std::printf("threads %d [%ld,%ld,%ld,%ld] %-8s %-22s forward %.3f ms (primitive %.3f), backward %.3f ms (primitive %.3f)\n",
                  omp_get_max_threads(), dims[0], dims[1], dims[2], dims[3],
                  layout == tag::nchw ? "nchw" : layout == tag::nhwc ? "nhwc" : layout == tag::nChw8c ? "nChw8c" : "nChw16c",
                  forwardDesc.impl_info_str(), forwardStaged, forwardAlone, backwardStaged, backwardAlone);
    }
  }
}

// A CUDA execution model on the host, so CI (which has no GPU) can run the backend's kernel
// sources: every thread of a block is a fiber (ucontext) on the calling OS thread, blocks run
// one after another, and the primitives the kernels use keep their CUDA meaning:
//
// - `__syncthreads()` parks the thread until every thread of its block has arrived; a
//   barrier that only part of the block reaches (divergent) fails the launch with a message.
// - `__shfl_*_sync` exchange values between the lanes of a warp (32 threads of consecutive
//   linear index) through a per-warp slot array, with a warp barrier before and after;
//   a lane outside the block or the warp reads its own value, as CUDA gives.
// - `__shared__` variables are function-local statics: one per block, since blocks never
//   overlap in time.
// - atomics are plain read-modify-writes (only one fiber runs at a time).
//
// The scheduler runs every runnable fiber until it parks or returns, alternating between
// ascending and descending thread order from one round to the next (so a missing barrier
// between a write and a read shows up whichever thread comes first), then releases the warp
// or block barriers that are complete. A shuffle that reads a lane which has returned fails
// the launch (undefined on a GPU). Races that need true concurrency are out of its reach.
//
// It is included before a kernel module's source (tests/cuda/kernel_emulator.py), which
// sees FT_HOST_EMULATOR defined.

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ucontext.h>

#include <cmath>
#include <functional>
#include <vector>

#define FT_HOST_EMULATOR 1
#define __global__
#define __device__
#define __host__
#define __forceinline__ inline
#define __restrict__ __restrict
#define __shared__ static

// Arithmetic that is never contracted into a fused multiply-add (plain operations on the host,
// which does not contract them either).
inline double __dmul_rn(double a, double b) { return a * b; }
inline double __dadd_rn(double a, double b) { return a + b; }

using std::isfinite;
using std::isinf;
using std::isnan;

struct dim3 {
    unsigned x = 1, y = 1, z = 1;
};

namespace ft_emu {

enum State { RUNNABLE, AT_BLOCK_BARRIER, AT_WARP_BARRIER, DONE };

struct Fiber {
    ucontext_t context;
    dim3 index;
    unsigned linear = 0;
    State state = RUNNABLE;
    std::vector<char> stack;
};

const size_t STACK_BYTES = 128 * 1024;

// The launch being run; one at a time (the test process runs launches sequentially).
struct Launch {
    dim3 grid, block, block_index;
    std::vector<Fiber> fibers;
    Fiber* current = nullptr;
    ucontext_t scheduler;
    const std::function<void()>* body = nullptr;
    std::vector<uint64_t> slots;  // one 8-byte slot per thread for warp exchanges
    bool failed = false;          // a thread broke the execution model (see error_message)
};

inline Launch& launch_state() {
    static Launch launch;
    return launch;
}

inline Fiber& current() { return *launch_state().current; }

inline void park(State state) {
    Launch& l = launch_state();
    l.current->state = state;
    swapcontext(&l.current->context, &l.scheduler);
}

inline void fiber_main() {
    Launch& l = launch_state();
    (*l.body)();
    l.current->state = DONE;
    // Returning resumes uc_link, the scheduler.
}

inline unsigned threads_per_block(const Launch& l) { return l.block.x * l.block.y * l.block.z; }

inline char* error_message() {
    static char message[256];
    return message;
}

enum Progress { RUNNING, FINISHED, DEADLOCK };

// Releases complete warp barriers, then (if nothing else can run) the block barrier.
inline Progress release(Launch& l) {
    const unsigned n = threads_per_block(l);
    bool any_runnable = false;
    for (unsigned w = 0; w < (n + 31) / 32; ++w) {
        bool waiting = false, complete = true;
        for (unsigned t = w * 32; t < n && t < w * 32 + 32; ++t) {
            State s = l.fibers[t].state;
            if (s == AT_WARP_BARRIER) waiting = true;
            else if (s != DONE) complete = false;
        }
        if (waiting && complete) {
            for (unsigned t = w * 32; t < n && t < w * 32 + 32; ++t) {
                if (l.fibers[t].state == AT_WARP_BARRIER) l.fibers[t].state = RUNNABLE;
            }
            any_runnable = true;
        }
    }
    if (any_runnable) return RUNNING;
    unsigned at_barrier = 0, done = 0;
    for (unsigned t = 0; t < n; ++t) {
        at_barrier += l.fibers[t].state == AT_BLOCK_BARRIER;
        done += l.fibers[t].state == DONE;
    }
    if (done == n) return FINISHED;
    if (at_barrier + done != n || done != 0) {
        snprintf(error_message(), 256, "deadlock in block (%u,%u,%u): %u threads at __syncthreads, %u returned, %u at a warp barrier",
                 l.block_index.x, l.block_index.y, l.block_index.z, at_barrier, done, n - at_barrier - done);
        return DEADLOCK;
    }
    for (unsigned t = 0; t < n; ++t) l.fibers[t].state = RUNNABLE;
    return RUNNING;
}

// Runs one block to its end; false (with `error_message`) when its threads deadlock. The
// fibers of a failed block are abandoned: the next launch makes them anew.
inline bool run_block(Launch& l) {
    const unsigned n = threads_per_block(l);
    for (unsigned t = 0; t < n; ++t) {
        Fiber& f = l.fibers[t];
        f.linear = t;
        f.index = dim3{t % l.block.x, (t / l.block.x) % l.block.y, t / (l.block.x * l.block.y)};
        f.state = RUNNABLE;
        getcontext(&f.context);
        f.context.uc_stack.ss_sp = f.stack.data();
        f.context.uc_stack.ss_size = f.stack.size();
        f.context.uc_link = &l.scheduler;
        makecontext(&f.context, fiber_main, 0);
    }
    for (bool descending = false;; descending = !descending) {
        for (unsigned k = 0; k < n; ++k) {
            const unsigned t = descending ? n - 1 - k : k;
            if (l.fibers[t].state != RUNNABLE) continue;
            l.current = &l.fibers[t];
            swapcontext(&l.scheduler, &l.fibers[t].context);
        }
        switch (release(l)) {
        case RUNNING: continue;
        case FINISHED: return true;
        case DEADLOCK: return false;
        }
    }
}

// Runs `body` as the kernel of a launch of `grid` blocks of `block` threads: 0 when it ran to
// its end, else 1 with `error_message` saying why (an invalid launch, a deadlock).
inline int launch(dim3 grid, dim3 block, const std::function<void()>& body) {
    Launch& l = launch_state();
    const unsigned n = block.x * block.y * block.z;
    if (n == 0 || n > 1024 || grid.x == 0 || grid.y == 0 || grid.z == 0 || grid.y > 65535 || grid.z > 65535) {
        snprintf(error_message(), 256, "invalid launch: grid (%u,%u,%u), block (%u,%u,%u)", grid.x, grid.y, grid.z, block.x, block.y,
                 block.z);
        return 1;
    }
    l.grid = grid;
    l.block = block;
    l.body = &body;
    if (l.fibers.size() < n) l.fibers.resize(n);
    for (unsigned t = 0; t < n; ++t) {
        if (l.fibers[t].stack.empty()) l.fibers[t].stack.resize(STACK_BYTES);
    }
    l.slots.assign(n, 0);
    l.failed = false;
    for (unsigned z = 0; z < grid.z; ++z)
        for (unsigned y = 0; y < grid.y; ++y)
            for (unsigned x = 0; x < grid.x; ++x) {
                l.block_index = dim3{x, y, z};
                if (!run_block(l) || l.failed) {
                    l.body = nullptr;
                    return 1;
                }
            }
    l.body = nullptr;
    return 0;
}

// Lane `source` of the calling thread's warp reads `v` of every lane; lanes outside the warp
// or the block read their own value.
template <typename T> inline T exchange(T v, int source) {
    static_assert(sizeof(T) <= 8, "warp exchange of more than 8 bytes");
    Launch& l = launch_state();
    const unsigned me = current().linear, warp = me / 32, n = threads_per_block(l);
    memcpy(&l.slots[me], &v, sizeof(T));
    park(AT_WARP_BARRIER);
    T result = v;
    const unsigned from = warp * 32 + (unsigned)source;
    if (source >= 0 && source < 32 && from < n) {
        if (l.fibers[from].state == DONE && !l.failed) {
            l.failed = true;
            snprintf(error_message(), 256, "thread %u shuffles from lane %d of its warp, which has returned", me, source);
        }
        memcpy(&result, &l.slots[from], sizeof(T));
    }
    park(AT_WARP_BARRIER);  // no lane overwrites its slot before every lane has read
    return result;
}

}  // namespace ft_emu

extern "C" const char* ft_emu_error() { return ft_emu::error_message(); }

#define threadIdx (ft_emu::current().index)
#define blockIdx (ft_emu::launch_state().block_index)
#define blockDim (ft_emu::launch_state().block)
#define gridDim (ft_emu::launch_state().grid)

inline void __syncthreads() { ft_emu::park(ft_emu::AT_BLOCK_BARRIER); }

template <typename T> inline T __shfl_sync(unsigned, T v, int lane) { return ft_emu::exchange(v, lane & 31); }
template <typename T> inline T __shfl_down_sync(unsigned, T v, unsigned delta) {
    return ft_emu::exchange(v, (int)(ft_emu::current().linear % 32 + delta));
}
template <typename T> inline T __shfl_up_sync(unsigned, T v, unsigned delta) {
    return ft_emu::exchange(v, (int)(ft_emu::current().linear % 32) - (int)delta);
}
template <typename T> inline T __shfl_xor_sync(unsigned, T v, int mask) {
    return ft_emu::exchange(v, (int)((ft_emu::current().linear % 32) ^ (unsigned)mask));
}

template <typename T> inline T atomicAdd(T* p, T v) {
    T old = *p;
    *p = old + v;
    return old;
}
template <typename T> inline T atomicCAS(T* p, T compare, T value) {
    T old = *p;
    if (old == compare) *p = value;
    return old;
}
template <typename T> inline T atomicExch(T* p, T value) {
    T old = *p;
    *p = value;
    return old;
}
// Threads run one at a time between barriers: every write is visible at once.
inline void __threadfence() {}

// CUDA's bit casts.
template <typename To, typename From> inline To ft_bit_cast(From v) {
    static_assert(sizeof(To) == sizeof(From), "bit cast between sizes");
    To out;
    memcpy(&out, &v, sizeof(To));
    return out;
}
inline float __int_as_float(int i) { return ft_bit_cast<float>(i); }
inline float __uint_as_float(unsigned u) { return ft_bit_cast<float>(u); }
inline unsigned __float_as_uint(float f) { return ft_bit_cast<unsigned>(f); }
inline int __float_as_int(float f) { return ft_bit_cast<int>(f); }
inline double __longlong_as_double(long long i) { return ft_bit_cast<double>(i); }
inline long long __double_as_longlong(double d) { return ft_bit_cast<long long>(d); }
inline unsigned __umulhi(unsigned a, unsigned b) { return (unsigned)(((unsigned long long)a * b) >> 32); }

// IEEE binary16 <-> binary32 with round to nearest even (what `cvt.rn.f16.f32` does).
inline float ft_host_f16_to_f32(unsigned short h) {
    const unsigned sign = (unsigned)(h & 0x8000u) << 16, exp = (h >> 10) & 0x1fu, mant = h & 0x3ffu;
    if (exp == 0x1f) return __uint_as_float(sign | 0x7f800000u | (mant << 13));
    if (exp != 0) return __uint_as_float(sign | ((exp + 112) << 23) | (mant << 13));
    const float magnitude = (float)mant * 5.9604644775390625e-8f;  // mant * 2^-24
    return sign ? -magnitude : magnitude;
}
inline unsigned short ft_host_f32_to_f16(float f) {
    const unsigned u = __float_as_uint(f), sign = (u >> 16) & 0x8000u;
    const unsigned abs = u & 0x7fffffffu;
    if (abs > 0x7f800000u) return (unsigned short)(sign | 0x7e00u | ((abs >> 13) & 0x3ffu));
    if (abs >= 0x477ff000u) return (unsigned short)(sign | 0x7c00u);  // rounds to infinity
    if (abs < 0x38800000u) {                                           // subnormal or zero
        const float scaled = __uint_as_float(abs) * 16777216.0f;      // |f| * 2^24, exact
        return (unsigned short)(sign | (unsigned)nearbyintf(scaled));
    }
    const unsigned rounded = abs + 0xfffu + ((abs >> 13) & 1u);
    return (unsigned short)(sign | ((rounded - 0x38000000u) >> 13));
}

// CUDA's erfinv, which the host's libm lacks: Giles' approximation ("Approximating the erfinv
// function", GPU Computing Gems, 2011) refined by two Newton steps on erf(x) - y.
inline double erfinv(double y) {
    if (!(y > -1.0 && y < 1.0)) return y == 1.0 ? INFINITY : (y == -1.0 ? -INFINITY : NAN);
    double w = -log((1.0 - y) * (1.0 + y)), x;
    if (w < 5.0) {
        w -= 2.5;
        x = 2.81022636e-08;
        for (double c : {3.43273939e-07, -3.5233877e-06, -4.39150654e-06, 0.00021858087, -0.00125372503, -0.00417768164, 0.246640727,
                         1.50140941})
            x = c + x * w;
    } else {
        w = sqrt(w) - 3.0;
        x = -0.000200214257;
        for (double c : {0.000100950558, 0.00134934322, -0.00367342844, 0.00573950773, -0.0076224613, 0.00943887047, 1.00167406,
                         2.83297682})
            x = c + x * w;
    }
    x *= y;
    for (int step = 0; step < 2; ++step) x -= (erf(x) - y) / (1.1283791670955126 * exp(-x * x));
    return x;
}
inline float erfinv(float y) { return (float)erfinv((double)y); }

// Replaces the global allocation functions of the test or benchmark binary
// that includes this header, so that it can count heap allocations around
// code that must not allocate. Include it in exactly one file of a binary.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdlib>
#include <new>

namespace sfu::test {

// Every operator new since the start of the process.
inline std::atomic<size_t> allocationCount{0};

namespace detail {

inline void* countedAllocate(size_t size, size_t alignment) {
    allocationCount.fetch_add(1, std::memory_order_relaxed);
    if (size == 0) {
        size = 1;
    }
    return alignment > alignof(std::max_align_t)
               ? std::aligned_alloc(alignment, (size + alignment - 1) / alignment * alignment)
               : std::malloc(size);
}

// Out of line so that GCC, seeing free() inlined into a replaced operator
// delete, does not take it for a mismatch with operator new.
[[gnu::noinline]] inline void countedRelease(void* memory) {
    std::free(memory);
}

} // namespace detail
} // namespace sfu::test

void* operator new(size_t size) {
    if (void* memory = sfu::test::detail::countedAllocate(size, 0)) {
        return memory;
    }
    throw std::bad_alloc();
}
void* operator new[](size_t size) {
    return operator new(size);
}
void* operator new(size_t size, const std::nothrow_t&) noexcept {
    return sfu::test::detail::countedAllocate(size, 0);
}
void* operator new[](size_t size, const std::nothrow_t&) noexcept {
    return sfu::test::detail::countedAllocate(size, 0);
}
void* operator new(size_t size, std::align_val_t alignment) {
    if (void* memory = sfu::test::detail::countedAllocate(size, static_cast<size_t>(alignment))) {
        return memory;
    }
    throw std::bad_alloc();
}
void* operator new[](size_t size, std::align_val_t alignment) {
    return operator new(size, alignment);
}
void operator delete(void* memory) noexcept {
    sfu::test::detail::countedRelease(memory);
}
void operator delete[](void* memory) noexcept {
    sfu::test::detail::countedRelease(memory);
}
void operator delete(void* memory, size_t) noexcept {
    sfu::test::detail::countedRelease(memory);
}
void operator delete[](void* memory, size_t) noexcept {
    sfu::test::detail::countedRelease(memory);
}
void operator delete(void* memory, std::align_val_t) noexcept {
    sfu::test::detail::countedRelease(memory);
}
void operator delete[](void* memory, std::align_val_t) noexcept {
    sfu::test::detail::countedRelease(memory);
}
void operator delete(void* memory, size_t, std::align_val_t) noexcept {
    sfu::test::detail::countedRelease(memory);
}
void operator delete[](void* memory, size_t, std::align_val_t) noexcept {
    sfu::test::detail::countedRelease(memory);
}

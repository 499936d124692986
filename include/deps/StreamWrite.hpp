// Ordered, non-blocking writes on a libuv stream (pipe or TCP): what the
// kernel takes goes at once, the rest is copied and queued behind what is
// already queued.
#pragma once

#include <uv.h>

namespace sfu::deps {

// Returns false when the stream refused the write (an error other than
// "would block"); nothing is queued then.
bool writeOrQueue(uv_stream_t* stream, const uv_buf_t* bufs, unsigned count);

} // namespace sfu::deps

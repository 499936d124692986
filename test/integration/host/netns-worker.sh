#!/bin/sh
# A worker binary for the Node host (MEDIASOUP_WORKER_BIN) that runs the real
# worker (SFU_NETNS_WORKER_BIN) inside the network namespace SFU_NETNS. Every
# step is an exec, so the host's fds 3-6 and its child pid stay the worker's.
exec ip netns exec "$SFU_NETNS" "$SFU_NETNS_WORKER_BIN" "$@"

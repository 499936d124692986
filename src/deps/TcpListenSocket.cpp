#include "deps/TcpListenSocket.hpp"

#include "deps/UvHandles.hpp"
#include "utils/Errors.hpp"

namespace sfu::deps {

uv_tcp_t* TcpListenSocket::bindHandle(uv_loop_t* loop, const sockaddr* addr, int& error) {
    auto* handle = new uv_tcp_t;
    error = uv_tcp_init_ex(loop, handle, addr->sa_family);
    if (error != 0) {
        delete handle;
        return nullptr;
    }
    handle->data = nullptr;
    const unsigned flags = addr->sa_family == AF_INET6 ? UV_TCP_IPV6ONLY : 0;
    error = uv_tcp_bind(handle, addr, flags);
    // libuv reports a port in use only when listening, so listening is part
    // of binding here.
    if (error == 0) {
        error = uv_listen(reinterpret_cast<uv_stream_t*>(handle), kBacklog, onConnection);
    }
    if (error != 0) {
        closeAndDelete(handle);
        return nullptr;
    }
    return handle;
}

TcpListenSocket::TcpListenSocket(uv_tcp_t* handle, Listener* listener)
    : handle_(handle), loop_(handle->loop), listener_(listener) {
    handle_->data = this;
    int length = sizeof(local_);
    int error = uv_tcp_getsockname(handle_, reinterpret_cast<sockaddr*>(&local_), &length);
    const auto family = deps::familyOf(localAddress());
    if (error == 0 && !family) {
        error = UV_EAFNOSUPPORT;
    }
    if (error != 0) {
        handle_->data = nullptr;
        closeAndDelete(handle_);
        throw Error(std::string("cannot use TCP socket: ") + uv_strerror(error));
    }
    family_ = *family;
    deps::formatAddress(localAddress(), localIp_, localPort_);
}

TcpListenSocket::~TcpListenSocket() {
    close();
}

void TcpListenSocket::close() {
    if (closed_) {
        return;
    }
    closed_ = true;
    handle_->data = nullptr;
    closeAndDelete(handle_);
    handle_ = nullptr;
    if (onClose_) {
        auto callback = std::move(onClose_);
        onClose_ = nullptr;
        callback();
    }
}

uv_tcp_t* TcpListenSocket::accept() {
    if (closed_) {
        return nullptr;
    }
    auto* client = new uv_tcp_t;
    uv_tcp_init(loop_, client);
    if (uv_accept(reinterpret_cast<uv_stream_t*>(handle_),
                  reinterpret_cast<uv_stream_t*>(client)) != 0) {
        closeAndDelete(client);
        return nullptr;
    }
    return client;
}

void TcpListenSocket::onConnection(uv_stream_t* server, int status) {
    auto* self = static_cast<TcpListenSocket*>(server->data);
    if (self != nullptr && self->listener_ != nullptr) {
        self->listener_->onTcpConnection(self, status);
    }
}

} // namespace sfu::deps
